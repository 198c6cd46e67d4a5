// Passkeys from Kotlin: the options are JSON text whose `publicKey` names
// the relying party (from app_url, or the webauthn_* keys) and the user;
// answers are JSON text, and text that is not JSON, or not a WebAuthn
// response, is a DoorwardException with its code (never a crash); the
// management calls and their errors; and real ceremonies with the test's
// own software authenticator (SoftAuthenticator.kt): registration,
// sign-in at level 2, replays and other origins refused, a passkey as the
// second factor and for step-up.

import doorward.*
import java.util.Base64

const val PASSKEY_ORIGIN = "https://app.example.com"

fun passkeyConfig(extra: (Config) -> Config = { it }) = memoryConfig { extra(it.copy(appUrl = PASSKEY_ORIGIN, rateLimitLoginAccount = "off")) }

/** What a ceremony needs: its state is sealed under the MFA key. */
fun ceremonyConfig(extra: (Config) -> Config = { it }) = passkeyConfig { extra(it.copy(mfaEncryptionKey = MFA_KEY)) }

/** `options`' `publicKey` member, parsed with the parity test's JSON reader. */
@Suppress("UNCHECKED_CAST")
fun publicKey(options: String): Map<String, Any?> {
    val parsed = Json(options).parse() as Map<String, Any?>
    check(parsed.keys == setOf("publicKey")) { "options: {\"publicKey\": ...}, got ${parsed.keys}" }
    return parsed["publicKey"] as Map<String, Any?>
}

@Suppress("UNCHECKED_CAST")
fun Map<String, Any?>.obj(key: String) = this[key] as Map<String, Any?>

fun b64url(bytes: ByteArray): String = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes)

/** Client data for a challenge no ceremony issued. */
fun clientData(type: String) = b64url(
    "{\"type\":\"$type\",\"challenge\":\"${b64url(ByteArray(32) { 7 })}\",\"origin\":\"$PASSKEY_ORIGIN\",\"crossOrigin\":false}".toByteArray(),
)

/** A well-formed `credential.toJSON()` of `navigator.credentials.get`, answering no ceremony. */
fun strayAssertion(): String {
    val id = b64url(ByteArray(16) { it.toByte() })
    return """{"id":"$id","rawId":"$id","type":"public-key","authenticatorAttachment":"platform",""" +
        """"response":{"clientDataJSON":"${clientData("webauthn.get")}","authenticatorData":"${b64url(ByteArray(37))}",""" +
        """"signature":"${b64url(ByteArray(64) { 1 })}","userHandle":null},"clientExtensionResults":{}}"""
}

/** A well-formed `credential.toJSON()` of `navigator.credentials.create`, answering no ceremony. */
fun strayAttestation(): String {
    val id = b64url(ByteArray(16) { 9 })
    return """{"id":"$id","rawId":"$id","type":"public-key",""" +
        """"response":{"clientDataJSON":"${clientData("webauthn.create")}","attestationObject":"${b64url(ByteArray(64))}","transports":["internal"]},""" +
        """"clientExtensionResults":{}}"""
}

/** Not JSON at all, JSON that is no WebAuthn response, and near misses. */
val GARBAGE = listOf("", "   ", "not json", "{", "{}", "[]", "null", "42", "\"text\"", "{\"id\":1}", "{\"response\":{}}", "\u0000\uFFFF")

val passkeysTests: List<Pair<String, suspend () -> Unit>> = listOf(
    "registration options name the relying party from app_url and the user" to {
        val dw = Doorward.open(passkeyConfig())
        val reg = dw.registerUser("ann", "ann@example.com", PASSWORD)
        val options = publicKey(dw.passkeys().startRegistration(reg.user.id))
        eq(options.obj("rp")["id"], "app.example.com", "publicKey.rp.id: the host of app_url")
        eq(options.obj("rp")["name"], "doorward", "publicKey.rp.name: the default")
        eq(options.obj("user")["name"], "ann", "publicKey.user.name")
        check((options["challenge"] as String).length >= 16) { "a challenge: ${options["challenge"]}" }
        check((options["pubKeyCredParams"] as List<*>).isNotEmpty()) { "algorithms offered" }
        // Each call is a new ceremony.
        val again = publicKey(dw.passkeys().startRegistration(reg.user.id))
        check(again["challenge"] != options["challenge"]) { "a new challenge each time" }
        throws<DoorwardException.NotFound> { dw.passkeys().startRegistration("01234567-89ab-7def-8123-456789abcdef") }
    },

    "the webauthn config keys are accepted and used" to {
        val dw = Doorward.open(
            passkeyConfig {
                it.copy(
                    webauthnRpId = "example.com",
                    webauthnRpName = "Example App",
                    webauthnOrigins = listOf(PASSKEY_ORIGIN, "https://www.example.com"),
                )
            },
        )
        val reg = dw.registerUser("bob", "bob@example.com", PASSWORD)
        val options = publicKey(dw.passkeys().startRegistration(reg.user.id))
        eq(options.obj("rp")["id"], "example.com", "publicKey.rp.id: webauthn_rp_id")
        eq(options.obj("rp")["name"], "Example App", "publicKey.rp.name: webauthn_rp_name")
        eq(options.obj("user")["name"], "bob", "publicKey.user.name")
        eq(publicKey(dw.passkeys().startAuthentication("bob"))["rpId"], "example.com", "request options' rpId")
        // A relying party id the origin does not belong to cannot work.
        val wrong = Doorward.open(passkeyConfig { it.copy(webauthnRpId = "example.org") })
        val id = wrong.registerUser("cyd", "cyd@example.com", PASSWORD).user.id
        eq(throws<DoorwardException.Config> { wrong.passkeys().startRegistration(id) }.code(), "config_error", "code")
    },

    "authentication options: for a user's passkeys, or any the platform holds" to {
        val dw = Doorward.open(passkeyConfig())
        dw.registerUser("ann", "ann@example.com", PASSWORD)
        for (options in listOf(dw.passkeys().startAuthentication(), dw.passkeys().startAuthentication(null), dw.passkeys().startAuthentication("ann"), dw.passkeys().startAuthentication("nobody"))) {
            val key = publicKey(options)
            eq(key["rpId"], "app.example.com", "publicKey.rpId")
            check((key["challenge"] as String).isNotEmpty()) { "a challenge" }
            // No passkey yet (or no such user): nothing listed, so nothing leaks.
            check((key["allowCredentials"] as List<*>?).isNullOrEmpty()) { "allowCredentials: ${key["allowCredentials"]}" }
        }
        eq(throws<DoorwardException.Validation> { dw.passkeys().startAuthentication("x".repeat(400)) }.field, "username", "field")
    },

    "answers that are not JSON, or not WebAuthn responses, are exceptions with their codes" to {
        val dw = Doorward.open(passkeyConfig())
        val reg = dw.registerUser("ann", "ann@example.com", PASSWORD)
        dw.passkeys().startRegistration(reg.user.id)
        for (text in GARBAGE) {
            val refused = throws<DoorwardException.Validation> { dw.passkeys().finishRegistration(reg.user.id, text, "laptop") }
            eq(refused.field, "response", "finishRegistration(${text.take(12)})")
            eq(refused.code(), "validation_error", "code")
            eq(throws<DoorwardException.Validation> { dw.passkeys().finishAuthentication(text) }.field, "response", "finishAuthentication(${text.take(12)})")
        }
        // Well-formed, but answering no ceremony.
        eq(throws<DoorwardException.FlowInvalid> { dw.passkeys().finishRegistration(reg.user.id, strayAttestation(), "laptop") }.code(), "flow_invalid", "stray attestation")
        eq(throws<DoorwardException.FlowInvalid> { dw.passkeys().finishAuthentication(strayAssertion(), ClientInfo(ip = "192.0.2.1")) }.code(), "flow_invalid", "stray assertion")
        // The name is checked too.
        for (name in listOf("", "   ", "x".repeat(65), "tab\there")) {
            eq(throws<DoorwardException.Validation> { dw.passkeys().finishRegistration(reg.user.id, strayAttestation(), name) }.field, "name", "name ${name.take(8)}")
        }
        // As a second factor and for a step-up, the assertion is JSON text too.
        eq(throws<DoorwardException.Validation> { dw.stepUp(reg.tokens.accessToken(), "passkey", "not json") }.field, "proof", "stepUp proof")
        throws<DoorwardException.FlowInvalid> { dw.stepUp(reg.tokens.accessToken(), "passkey", strayAssertion()) }
        dw.verifyToken(reg.tokens.accessToken()) // still working
        eq(dw.passkeys().list(reg.user.id), emptyList<PasskeyInfo>(), "nothing registered")
    },

    "list, rename and remove" to {
        val dw = Doorward.open(passkeyConfig())
        val reg = dw.registerUser("ann", "ann@example.com", PASSWORD)
        eq(dw.passkeys().list(reg.user.id), emptyList<PasskeyInfo>(), "list: empty")
        throws<DoorwardException.NotFound> { dw.passkeys().list("01234567-89ab-7def-8123-456789abcdef") }
        eq(throws<DoorwardException.NotFound> { dw.passkeys().rename(reg.user.id, "nope", "phone") }.code(), "not_found", "rename unknown")
        eq(throws<DoorwardException.Validation> { dw.passkeys().rename(reg.user.id, "nope", "") }.field, "name", "rename to nothing")
        // A fresh token, an unknown passkey.
        eq(throws<DoorwardException.NotFound> { dw.passkeys().remove(reg.tokens.accessToken(), "nope") }.code(), "not_found", "remove unknown")
        throws<DoorwardException.TokenInvalid> { dw.passkeys().remove("not.a.token", "nope") }
        dw.logout(reg.tokens.accessToken())
        throws<DoorwardException.TokenRevoked> { dw.passkeys().remove(reg.tokens.accessToken(), "nope") }
        // The record, as Kotlin builds and compares it.
        val now = java.time.Instant.now()
        val info = PasskeyInfo(id = "abc", name = "laptop", createdAt = now, lastUsedAt = null, backupEligible = true, backupState = false, signCount = 0u)
        eq(info.copy(name = "phone").name, "phone", "copy")
        eq(info, PasskeyInfo("abc", "laptop", now, null, true, false, 0u), "equality")
    },

    "the test's CBOR matches RFC 8949 Appendix A, and its authenticator's answers check out with the JDK" to {
        fun hex(bytes: ByteArray) = bytes.joinToString("") { "%02x".format(it) }
        val vectors = listOf<Pair<Any?, String>>(
            0 to "00", 23 to "17", 24 to "1818", 100 to "1864", 1000 to "1903e8", 1_000_000 to "1a000f4240",
            1_000_000_000_000L to "1b000000e8d4a51000", -1 to "20", -10 to "29", -100 to "3863", -1000 to "3903e7",
            ByteArray(0) to "40", byteArrayOf(1, 2, 3, 4) to "4401020304", "" to "60", "a" to "6161", "IETF" to "6449455446",
            "\u00fc" to "62c3bc", emptyList<Any>() to "80", listOf(1, 2, 3) to "83010203", emptyMap<Any, Any>() to "a0",
            linkedMapOf(1 to 2, 3 to 4) to "a201020304", linkedMapOf("a" to 1, "b" to listOf(2, 3)) to "a26161016162820203",
            false to "f4", true to "f5", null to "f6",
        )
        for ((value, expected) in vectors) eq(hex(Cbor.encode(value)), expected, "CBOR of $value")

        // Options of the shape the core gives, answered and read back.
        val device = SoftAuthenticator()
        val user = b64url(byteArrayOf(1, 2, 3))
        val created = Json(
            device.create(
                """{"publicKey":{"rp":{"id":"app.example.com","name":"x"},"user":{"id":"$user","name":"a","displayName":"a"},""" +
                    """"challenge":"${b64url(ByteArray(32) { 3 })}","pubKeyCredParams":[{"type":"public-key","alg":-7}]}}""",
            ),
        ).parse() as Map<String, Any?>
        val credential = device.credentials.single()
        eq(created["id"], b64url(credential.id), "id")
        eq(created["rawId"], created["id"], "rawId")
        check(credential.id.size in 16..32) { "credential id of ${credential.id.size} bytes" }
        val attested = Json(unb64url(created.obj("response")["clientDataJSON"] as String).decodeToString()).parse() as Map<String, Any?>
        eq(attested, mapOf("type" to "webauthn.create", "challenge" to b64url(ByteArray(32) { 3 }), "origin" to PASSKEY_ORIGIN, "crossOrigin" to false), "client data")
        val attestation = unb64url(created.obj("response")["attestationObject"] as String)
        check(hex(attestation).startsWith("a363666d74646e6f6e656761747453746d74a068617574684461746158")) { "{fmt: none, attStmt: {}, authData: ...}" }
        val authData = attestation.copyOfRange(attestation.size - (37 + 16 + 2 + credential.id.size + 77), attestation.size)
        eq(hex(authData.copyOfRange(0, 32)), hex(sha256("app.example.com".toByteArray())), "rpIdHash")
        eq(authData[32], 0x45.toByte(), "flags UP | UV | AT")
        eq(hex(authData.copyOfRange(53, 55 + credential.id.size)), "%04x".format(credential.id.size) + hex(credential.id), "credential id")
        val point = (credential.keys.public as java.security.interfaces.ECPublicKey).w
        eq(
            hex(authData.copyOfRange(55 + credential.id.size, authData.size)),
            "a5010203262001215820" + hex(fixed(point.affineX, 32)) + "225820" + hex(fixed(point.affineY, 32)),
            "COSE key",
        )

        repeat(2) { use ->
            val asserted = Json(device.get("""{"publicKey":{"challenge":"${b64url(ByteArray(32) { 5 })}","rpId":"app.example.com"}}""")).parse() as Map<String, Any?>
            val response = asserted.obj("response")
            eq(response["userHandle"], user, "userHandle")
            val data = unb64url(response["authenticatorData"] as String)
            eq(data.size, 37, "authenticator data")
            eq(data[32], 0x05.toByte(), "flags UP | UV")
            eq(java.nio.ByteBuffer.wrap(data, 33, 4).int, use + 1, "counter")
            val verifier = java.security.Signature.getInstance("SHA256withECDSA")
            verifier.initVerify(credential.keys.public)
            verifier.update(data + sha256(unb64url(response["clientDataJSON"] as String)))
            check(verifier.verify(unb64url(response["signature"] as String))) { "the signature verifies" }
        }
    },

    "a real ceremony: a passkey registers once, signs in at level 2, once per assertion and only for its origin" to {
        val dw = Doorward.open(ceremonyConfig())
        val reg = dw.registerUser("ann", "ann@example.com", PASSWORD)
        val device = SoftAuthenticator()
        val options = dw.passkeys().startRegistration(reg.user.id)
        val response = device.create(options)
        val info = dw.passkeys().finishRegistration(reg.user.id, response, "laptop")
        eq(info.name, "laptop", "named as asked")
        eq(info.id, b64url(device.credentials.single().id), "its id: the credential's, base64url")
        eq(info.signCount, 0u, "not used yet")
        eq(info.lastUsedAt, null, "never used")
        eq(info.backupEligible, false, "device-bound")
        eq(dw.passkeys().list(reg.user.id), listOf(info), "listed")
        // The ceremony is spent: the same response registers nothing more.
        eq(throws<DoorwardException.FlowInvalid> { dw.passkeys().finishRegistration(reg.user.id, response, "again") }.code(), "flow_invalid", "registration replayed")
        // A creation answered for a page of another origin.
        val foreign = SoftAuthenticator("https://evil.example.org").create(dw.passkeys().startRegistration(reg.user.id))
        eq(throws<DoorwardException.Validation> { dw.passkeys().finishRegistration(reg.user.id, foreign, "evil") }.field, "response", "foreign registration")
        eq(dw.passkeys().list(reg.user.id).size, 1, "still one passkey")

        // Sign in with it.
        val request = dw.passkeys().startAuthentication("ann")
        eq((publicKey(request)["allowCredentials"] as List<*>).map { (it as Map<*, *>)["id"] }, listOf(info.id), "allowCredentials: ann's passkey")
        val assertion = device.get(request)
        val tokens = dw.passkeys().finishAuthentication(assertion, ClientInfo(ip = "192.0.2.7"))
        val me = dw.verifyToken(tokens.accessToken())
        eq(me.userId, reg.user.id, "whose session")
        eq(me.aal, 2.toUByte(), "aal")
        check("user" in me.amr && ("hwk" in me.amr || "swk" in me.amr)) { "amr: ${me.amr}" }
        check("hwk" in me.amr) { "not backup eligible: a device-bound key, amr ${me.amr}" }
        // The same assertion again: its ceremony is used up.
        eq(throws<DoorwardException.FlowInvalid> { dw.passkeys().finishAuthentication(assertion) }.code(), "flow_invalid", "assertion replayed")
        // A phishing page's assertion, signed by the real authenticator.
        val phished = device.get(dw.passkeys().startAuthentication("ann"), origin = "https://evil.example.org")
        eq(throws<DoorwardException.InvalidCredentials> { dw.passkeys().finishAuthentication(phished) }.code(), "invalid_credentials", "another origin")
        // A signature that does not match.
        val forged = device.get(dw.passkeys().startAuthentication("ann")).let { text ->
            val signature = (Json(text).parse() as Map<String, Any?>).obj("response")["signature"] as String
            text.replace(signature, b64url(unb64url(signature).also { it[it.size - 1] = (it[it.size - 1] + 1).toByte() }))
        }
        throws<DoorwardException.InvalidCredentials> { dw.passkeys().finishAuthentication(forged) }

        // No TOTP: the password alone is a complete, level-1 login, and the
        // passkey steps it up.
        val plain = dw.login("ann", PASSWORD).expectTokens()
        eq(dw.verifyToken(plain.accessToken()).aal, 1.toUByte(), "password only")
        val stepped = dw.stepUp(plain.accessToken(), "passkey", device.get(dw.passkeys().startAuthentication("ann")))
        val fresh = dw.verifyToken(stepped.accessToken())
        eq(fresh.aal, 2.toUByte(), "stepped up")
        check("pwd" in fresh.amr) { "amr: ${fresh.amr}" }
        eq(fresh.userId, reg.user.id, "whose session")
        throws<DoorwardException.TokenRevoked> { dw.verifyToken(plain.accessToken()) }

        val listed = dw.passkeys().list(reg.user.id).single()
        check(listed.signCount >= 1u) { "sign count: ${listed.signCount}" }
        check(listed.lastUsedAt != null) { "last used: $listed" }
        dw.passkeys().rename(reg.user.id, info.id, "work laptop")
        eq(dw.passkeys().list(reg.user.id).single().name, "work laptop", "renamed")
    },

    "a real ceremony: a discoverable passkey without a username, and a passkey as the second factor" to {
        val dw = Doorward.open(ceremonyConfig())
        val (key, at, _) = enrolled(dw, "bob")
        val bob = dw.users().list().items.single { it.username == "bob" }
        val device = SoftAuthenticator()
        dw.passkeys().finishRegistration(bob.id, device.create(dw.passkeys().startRegistration(bob.id)), "phone")

        // The platform offers the passkey it holds; its user handle says whose.
        val request = dw.passkeys().startAuthentication()
        check((publicKey(request)["allowCredentials"] as List<*>?).isNullOrEmpty()) { "no list: any passkey of the site" }
        val me = dw.verifyToken(dw.passkeys().finishAuthentication(device.get(request)).accessToken())
        eq(me.userId, bob.id, "the user handle's user")
        eq(me.aal, 2.toUByte(), "aal")

        // With TOTP enrolled, a password login asks for more, and the
        // passkey answers.
        val challenge = dw.login("bob", PASSWORD).expectChallenge()
        eq(challenge.methods, listOf("totp", "recovery_code", "passkey"), "methods")
        val assertion = device.get(dw.passkeys().startAuthentication("bob"))
        val tokens = dw.completeMfa(challenge.flowId, "passkey", assertion)
        val strong = dw.verifyToken(tokens.accessToken())
        eq(strong.aal, 2.toUByte(), "aal")
        check("pwd" in strong.amr && "user" in strong.amr) { "amr: ${strong.amr}" }
        throws<DoorwardException.FlowInvalid> { dw.completeMfa(challenge.flowId, "passkey", assertion) }
        // Another account's passkey is no second factor for bob.
        val cyd = dw.registerUser("cyd", "cyd@example.com", PASSWORD)
        val cyds = SoftAuthenticator()
        dw.passkeys().finishRegistration(cyd.user.id, cyds.create(dw.passkeys().startRegistration(cyd.user.id)), "key")
        val again = dw.login("bob", PASSWORD).expectChallenge()
        throws<DoorwardException.InvalidCredentials> { dw.completeMfa(again.flowId, "passkey", cyds.get(dw.passkeys().startAuthentication("cyd"))) }
        eq(dw.verifyToken(dw.completeMfa(again.flowId, "totp", Totp.code(key, at + 30)).accessToken()).aal, 2.toUByte(), "the flow still open")
        eq(dw.passkeys().list(bob.id).single().signCount, 2u, "two uses counted")
    },
)
