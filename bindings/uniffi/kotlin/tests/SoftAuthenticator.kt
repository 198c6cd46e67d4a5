// A software WebAuthn authenticator and client for the Kotlin tests,
// written apart from the library under test with the JDK alone: P-256
// keys and ES256 (DER) signatures from java.security, SHA-256, base64url
// without padding, and the few CBOR items an authenticator's answers
// need. It answers the options `passkeys().startRegistration` and
// `startAuthentication` give with the JSON text of `credential.toJSON()`,
// attestation "none", user present and verified, device-bound (no
// backup flags). Used by PasskeysTest.kt.

import java.io.ByteArrayOutputStream
import java.math.BigInteger
import java.nio.ByteBuffer
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.MessageDigest
import java.security.SecureRandom
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.util.Base64

/** RFC 8949 CBOR, definite lengths only: maps (in the order given), byte
 * and text strings, integers, arrays, booleans and null. */
object Cbor {
    fun encode(value: Any?): ByteArray = ByteArrayOutputStream().also { write(it, value) }.toByteArray()

    private fun head(out: ByteArrayOutputStream, major: Int, argument: Long) {
        val type = major shl 5
        when {
            argument < 24 -> out.write(type or argument.toInt())
            argument < 0x100 -> { out.write(type or 24); out.write(argument.toInt()) }
            argument < 0x10000 -> { out.write(type or 25); out.write(ByteBuffer.allocate(2).putShort(argument.toShort()).array()) }
            argument < 0x100000000 -> { out.write(type or 26); out.write(ByteBuffer.allocate(4).putInt(argument.toInt()).array()) }
            else -> { out.write(type or 27); out.write(ByteBuffer.allocate(8).putLong(argument).array()) }
        }
    }

    private fun write(out: ByteArrayOutputStream, value: Any?) {
        when (value) {
            null -> out.write(0xf6)
            true -> out.write(0xf5)
            false -> out.write(0xf4)
            is Int -> write(out, value.toLong())
            is Long -> if (value >= 0) head(out, 0, value) else head(out, 1, -1 - value)
            is ByteArray -> { head(out, 2, value.size.toLong()); out.write(value) }
            is String -> value.toByteArray(Charsets.UTF_8).let { head(out, 3, it.size.toLong()); out.write(it) }
            is List<*> -> { head(out, 4, value.size.toLong()); value.forEach { write(out, it) } }
            is Map<*, *> -> {
                head(out, 5, value.size.toLong())
                for ((k, v) in value) { write(out, k); write(out, v) }
            }
            else -> throw IllegalArgumentException("CBOR: cannot encode ${value::class}")
        }
    }
}

fun sha256(bytes: ByteArray): ByteArray = MessageDigest.getInstance("SHA-256").digest(bytes)

fun unb64url(text: String): ByteArray = Base64.getUrlDecoder().decode(text)

/** An unsigned big-endian integer in exactly `size` bytes. */
fun fixed(n: BigInteger, size: Int): ByteArray {
    val bytes = n.toByteArray().dropWhile { it == 0.toByte() }.toByteArray()
    check(bytes.size <= size) { "$n does not fit in $size bytes" }
    return ByteArray(size - bytes.size) + bytes
}

/** A platform authenticator and its browser in one: it keeps its
 * credentials, and answers as the client at `origin` would. */
class SoftAuthenticator(private val origin: String = PASSKEY_ORIGIN) {
    /** One credential: its id, key pair, relying party, user handle
     * (base64url, as the options gave it) and signature counter. */
    class Credential(val id: ByteArray, val keys: KeyPair, val rpId: String, val userHandle: String, var signCount: Int = 0)

    val credentials = mutableListOf<Credential>()
    private val random = SecureRandom()

    /** `navigator.credentials.create(options)`: a new ES256 credential
     * for the options' relying party and user. `origin` is the one the
     * client data names (and the attestation covers). */
    fun create(options: String, origin: String = this.origin): String {
        val key = publicKey(options)
        check((key["pubKeyCredParams"] as List<*>).any { (it as Map<*, *>)["alg"] == -7.0 }) { "ES256 not offered: ${key["pubKeyCredParams"]}" }
        val rpId = key.obj("rp")["id"] as String? ?: java.net.URI(origin).host
        val excluded = (key["excludeCredentials"] as List<*>?).orEmpty().map { (it as Map<*, *>)["id"] }
        check(credentials.none { it.rpId == rpId && b64url(it.id) in excluded }) { "InvalidStateError: a credential here is excluded" }
        val generator = KeyPairGenerator.getInstance("EC")
        generator.initialize(ECGenParameterSpec("secp256r1"), random)
        val id = ByteArray(16 + random.nextInt(17)).also(random::nextBytes)
        val credential = Credential(id, generator.generateKeyPair(), rpId, key.obj("user")["id"] as String)

        val point = (credential.keys.public as ECPublicKey).w
        // RFC 9053 COSE_Key: kty EC2, alg ES256, crv P-256, x, y.
        val cose = linkedMapOf<Any, Any>(1 to 2, 3 to -7, -1 to 1, -2 to fixed(point.affineX, 32), -3 to fixed(point.affineY, 32))
        val authData = authenticatorData(rpId, flags = 0x45, signCount = 0) + // UP | UV | AT
            ByteArray(16) + // AAGUID: none
            ByteBuffer.allocate(2).putShort(id.size.toShort()).array() + id +
            Cbor.encode(cose)
        val attestation = Cbor.encode(linkedMapOf("fmt" to "none", "attStmt" to emptyMap<String, Any>(), "authData" to authData))
        val clientData = clientDataJson("webauthn.create", key["challenge"] as String, origin)
        credentials += credential
        return """{"id":"${b64url(id)}","rawId":"${b64url(id)}","type":"public-key",""" +
            """"response":{"clientDataJSON":"${b64url(clientData)}","attestationObject":"${b64url(attestation)}"},""" +
            """"extensions":{}}"""
    }

    /** `navigator.credentials.get(options)`: an assertion by the first
     * listed credential held, or, with none listed, the first held for
     * the relying party (a discoverable one, with its user handle). The
     * counter goes up by one each use; the client data names `origin`
     * and the signature covers it whatever it is. */
    fun get(options: String, origin: String = this.origin): String {
        val key = publicKey(options)
        val rpId = key["rpId"] as String? ?: java.net.URI(origin).host
        val allowed = (key["allowCredentials"] as List<*>?).orEmpty().map { (it as Map<*, *>)["id"] as String }
        val credential = credentials.firstOrNull { it.rpId == rpId && (allowed.isEmpty() || b64url(it.id) in allowed) }
            ?: throw IllegalStateException("NotAllowedError: no credential for $rpId among $allowed")
        credential.signCount++
        val authData = authenticatorData(rpId, flags = 0x05, signCount = credential.signCount) // UP | UV
        val clientData = clientDataJson("webauthn.get", key["challenge"] as String, origin)
        val signature = Signature.getInstance("SHA256withECDSA").run {
            initSign(credential.keys.private, random)
            update(authData + sha256(clientData))
            sign() // ASN.1 DER, as WebAuthn's ES256 wants
        }
        val id = b64url(credential.id)
        return """{"id":"$id","rawId":"$id","type":"public-key",""" +
            """"response":{"authenticatorData":"${b64url(authData)}","clientDataJSON":"${b64url(clientData)}",""" +
            """"signature":"${b64url(signature)}","userHandle":"${credential.userHandle}"},""" +
            """"extensions":{}}"""
    }

    private fun authenticatorData(rpId: String, flags: Int, signCount: Int): ByteArray =
        sha256(rpId.toByteArray()) + byteArrayOf(flags.toByte()) + ByteBuffer.allocate(4).putInt(signCount).array()

    private fun clientDataJson(type: String, challenge: String, origin: String): ByteArray {
        check(challenge.all { it.isLetterOrDigit() || it == '-' || it == '_' }) { "challenge is not base64url: $challenge" }
        check(!origin.contains('"') && !origin.contains('\\')) { "origin: $origin" }
        return """{"type":"$type","challenge":"$challenge","origin":"$origin","crossOrigin":false}""".toByteArray()
    }
}
