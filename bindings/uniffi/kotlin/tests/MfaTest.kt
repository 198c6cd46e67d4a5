// Second factors from Kotlin, end to end: a TOTP authenticator enrolled
// with codes computed here, independently of the library (RFC 6238 over
// javax.crypto's HmacSHA1, checked against the RFC's Appendix B), logins
// that answer LoginResult.MfaRequired and finish with completeMfa, replay
// refused, recovery codes used once, the assurance level and step-up, the
// device session's DeviceLogin, an enrolment a role requires, and no
// secret in any toString().

import doorward.*
import java.nio.ByteBuffer
import java.time.Instant
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

const val MFA_KEY = "kotlin-mfa-key-of-at-least-thirty-two-bytes"

/** RFC 6238 over HMAC-SHA-1, written apart from the library under test. */
object Totp {
    private const val ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

    /** RFC 4648 base32, padding optional. */
    fun base32(text: String): ByteArray {
        val out = java.io.ByteArrayOutputStream()
        var buffer = 0
        var bits = 0
        for (c in text.trimEnd('=').uppercase()) {
            val value = ALPHABET.indexOf(c)
            check(value >= 0) { "not base32: $c" }
            buffer = (buffer shl 5) or value
            bits += 5
            if (bits >= 8) {
                bits -= 8
                out.write((buffer shr bits) and 0xff)
            }
        }
        return out.toByteArray()
    }

    /** RFC 4226's HOTP of `counter`, `digits` long. */
    fun hotp(key: ByteArray, counter: Long, digits: Int): String {
        val mac = Mac.getInstance("HmacSHA1")
        mac.init(SecretKeySpec(key, "HmacSHA1"))
        val hash = mac.doFinal(ByteBuffer.allocate(8).putLong(counter).array())
        val offset = hash[hash.size - 1].toInt() and 0x0f
        val binary = ((hash[offset].toInt() and 0x7f) shl 24) or
            ((hash[offset + 1].toInt() and 0xff) shl 16) or
            ((hash[offset + 2].toInt() and 0xff) shl 8) or
            (hash[offset + 3].toInt() and 0xff)
        var modulus = 1
        repeat(digits) { modulus *= 10 }
        return (binary % modulus).toString().padStart(digits, '0')
    }

    /** The code of the 30-second step holding `unixSeconds`. */
    fun code(key: ByteArray, unixSeconds: Long, digits: Int = 6): String = hotp(key, unixSeconds / 30, digits)
}

fun mfaConfig(extra: (Config) -> Config = { it }) = memoryConfig {
    extra(it.copy(mfaEncryptionKey = MFA_KEY, mfaIssuer = "ExampleApp", mfaLoginTtl = 120uL, rateLimitLoginAccount = "off"))
}

/** Registers `name` and enrols a TOTP authenticator: the key, the unix
 * time whose code confirmed it, and the recovery codes. */
suspend fun enrolled(dw: Doorward, name: String): Triple<ByteArray, Long, RecoveryCodes> {
    val reg = dw.registerUser(name, "$name@example.com", PASSWORD)
    val enrolment = dw.mfa().startTotp(reg.user.id)
    val key = Totp.base32(enrolment.secret)
    val now = Instant.now().epochSecond
    return Triple(key, now, dw.mfa().confirmTotp(reg.user.id, Totp.code(key, now)))
}

val mfaTests: List<Pair<String, suspend () -> Unit>> = listOf(
    "the test's own TOTP matches RFC 6238 Appendix B (SHA-1)" to {
        val key = "12345678901234567890".toByteArray()
        for ((time, code) in listOf(59L to "94287082", 1_111_111_109L to "07081804", 1_234_567_890L to "89005924", 20_000_000_000L to "65353130")) {
            eq(Totp.code(key, time, digits = 8), code, "T = $time")
        }
        eq(Totp.base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").decodeToString(), "12345678901234567890", "base32")
    },

    "TOTP end to end: enrol, challenge, replay refused, next step, recovery code once, step-up" to {
        val dw = Doorward.open(mfaConfig())
        val reg = dw.registerUser("ann", "ann@example.com", PASSWORD)
        val before = dw.mfa().status(reg.user.id)
        eq(before, MfaStatus(totp = false, recoveryCodesLeft = 0u, enabled = false), "no factor yet")

        // Enrolment: the secret, its URI and QR code, none of them printed.
        val enrolment = dw.mfa().startTotp(reg.user.id)
        check(enrolment.uri.startsWith("otpauth://totp/ExampleApp:ann?")) { "uri: the issuer and the account" }
        check(enrolment.uri.contains("secret=${enrolment.secret}")) { "the uri carries the secret" }
        check(enrolment.qrCode.startsWith("data:image/png;base64,")) { "QR code as a data URI" }
        for (secret in listOf(enrolment.secret, enrolment.uri, enrolment.qrCode)) {
            check(!enrolment.toString().contains(secret)) { "TotpEnrolment.toString() hides it: $enrolment" }
        }
        eq(dw.mfa().status(reg.user.id).enabled, false, "pending until confirmed")
        eq(dw.login("ann", PASSWORD).expectTokens().tokenType(), "Bearer", "no challenge while pending")

        val key = Totp.base32(enrolment.secret)
        val now = Instant.now().epochSecond
        val first = Totp.code(key, now)
        val wrong = ((first.toInt() + 1) % 1_000_000).toString().padStart(6, '0')
        throws<DoorwardException.InvalidCredentials> { dw.mfa().confirmTotp(reg.user.id, wrong) }
        val recovery = dw.mfa().confirmTotp(reg.user.id, first)
        eq(recovery.codes.size, 10, "ten recovery codes")
        eq(recovery.codes.toSet().size, 10, "all different")
        for (code in recovery.codes) check(!recovery.toString().contains(code)) { "RecoveryCodes.toString() hides them: $recovery" }
        eq(dw.mfa().status(reg.user.id), MfaStatus(totp = true, recoveryCodesLeft = 10u, enabled = true), "enrolled")
        throws<DoorwardException.Validation> { dw.mfa().startTotp(reg.user.id) }.also { eq(it.field, "totp", "already active") }

        // The password alone now gets a challenge.
        val result = dw.login("ann", PASSWORD)
        val challenge = result.expectChallenge()
        eq(challenge.userId, reg.user.id, "whose login")
        eq(challenge.methods, listOf("totp", "recovery_code"), "methods")
        eq(challenge.enrolmentRequired, false, "enrolled already")
        eq(challenge.expiresIn, 120uL, "mfa_login_ttl")
        for (printed in listOf(challenge.toString(), result.toString())) {
            check(!printed.contains(challenge.flowId) && !printed.contains(challenge.flowId.substringAfter('.'))) { "toString hides the flow id: $printed" }
        }

        // The code that confirmed the authenticator was used: refused.
        eq(throws<DoorwardException.InvalidCredentials> { dw.completeMfa(challenge.flowId, "totp", first) }.code(), "invalid_credentials", "replay")
        throws<DoorwardException.Validation> { dw.completeMfa(challenge.flowId, "sms", first) }.also { eq(it.field, "method", "unknown method") }
        // The next step's code completes the login, once.
        val next = Totp.code(key, now + 30)
        val tokens = dw.completeMfa(challenge.flowId, "totp", next, ClientInfo(ip = "192.0.2.10"))
        throws<DoorwardException.FlowInvalid> { dw.completeMfa(challenge.flowId, "totp", next) }
        val strong = dw.verifyToken(tokens.accessToken())
        eq(strong.aal, 2.toUByte(), "aal")
        eq(strong.amr, listOf("mfa", "otp", "pwd"), "amr")
        check(!strong.authTime.isAfter(Instant.now()) && strong.authTime.isAfter(Instant.now().minusSeconds(60))) { "authTime is now: ${strong.authTime}" }
        eq(strong.userId, reg.user.id, "whose session")

        // A recovery code completes another login, once.
        val spare = recovery.codes[0]
        val again = dw.login("ann@example.com", PASSWORD).expectChallenge()
        eq(dw.verifyToken(dw.completeMfa(again.flowId, "recovery_code", spare).accessToken()).aal, 2.toUByte(), "recovery code: aal 2")
        val third = dw.login("ann", PASSWORD).expectChallenge()
        throws<DoorwardException.InvalidCredentials> { dw.completeMfa(third.flowId, "recovery_code", spare) }
        eq(dw.mfa().status(reg.user.id).recoveryCodesLeft, 9u, "one used")

        // Assurance: level 2 passes; a password-only session must step up.
        dw.requireAal(strong, 2u)
        dw.requireRecentAuth(strong, 300uL)
        dw.registerUser("bob", "bob@example.com", PASSWORD)
        val plain = dw.verifyToken(dw.login("bob", PASSWORD).expectTokens().accessToken())
        eq(plain.aal, 1.toUByte(), "password only")
        eq(plain.amr, listOf("pwd"), "amr of a password login")
        val refused = throws<DoorwardException.StepUpRequired> { dw.requireAal(plain, 2u) }
        eq(refused.code(), "step_up_required", "code")
        val answer = refused.httpResponse(false)
        eq(answer.status, 401.toUShort(), "status")
        check(answer.headers["WWW-Authenticate"]?.startsWith("Bearer error=\"insufficient_user_authentication\"") == true) { "challenge: ${answer.headers}" }
        // The principal goes back to the core whole: its level and its time count.
        throws<DoorwardException.StepUpRequired> { dw.requireAal(strong.copy(aal = 1u), 2u) }
        throws<DoorwardException.StepUpRequired> { dw.requireRecentAuth(strong.copy(authTime = Instant.now().minusSeconds(3_600)), 300uL) }

        // Step-up: a new session, the old token revoked.
        throws<DoorwardException.InvalidCredentials> { dw.stepUp(tokens.accessToken(), "password", "not the password") }
        val stepped = dw.stepUp(tokens.accessToken(), "password", PASSWORD)
        throws<DoorwardException.TokenRevoked> { dw.verifyToken(tokens.accessToken()) }
        val fresh = dw.verifyToken(stepped.accessToken())
        check(fresh.sessionId != strong.sessionId) { "a new session" }
        eq(fresh.aal, 2.toUByte(), "still level 2")
        dw.requireRecentAuth(fresh, 60uL)
        val bobUp = dw.stepUp(dw.login("bob", PASSWORD).expectTokens().accessToken(), "password", PASSWORD)
        eq(dw.verifyToken(bobUp.accessToken()).aal, 1.toUByte(), "a password again is still level 1")

        // Fresh tokens manage the factors.
        val replaced = dw.mfa().regenerateRecoveryCodes(stepped.accessToken())
        eq(replaced.codes.size, 10, "a new set")
        eq(dw.mfa().status(reg.user.id).recoveryCodesLeft, 10u, "ten again")
        val old = dw.login("ann", PASSWORD).expectChallenge()
        throws<DoorwardException.InvalidCredentials> { dw.completeMfa(old.flowId, "recovery_code", recovery.codes[1]) }
        dw.completeMfa(old.flowId, "recovery_code", replaced.codes[0])
        dw.mfa().disableTotp(stepped.accessToken())
        eq(dw.mfa().status(reg.user.id), MfaStatus(totp = false, recoveryCodesLeft = 0u, enabled = false), "removed")
        throws<DoorwardException.NotFound> { dw.mfa().disableTotp(stepped.accessToken()) }
        dw.login("ann", PASSWORD).expectTokens()

        // What happened, as events; none carries the flow's secret.
        val events = dw.events().list(limit = 500u).items
        val types = events.map { it.eventType }.toSet()
        for (t in listOf("MfaChallenged", "MfaEnrolled", "MfaRemoved", "MfaFailed", "RecoveryCodeUsed", "RecoveryCodesRegenerated")) {
            check(t in types) { "$t missing from $types" }
            check(t in eventTypes()) { "$t in eventTypes()" }
        }
        val text = events.joinToString(" ") { it.payloadJson }
        for (secret in listOf(challenge.flowId.substringAfter('.'), enrolment.secret, first, spare)) {
            check(!text.contains(secret)) { "a secret is in the events" }
        }
    },

    "the device session: MfaRequired, then completeMfa keeps the tokens" to {
        val dw = Doorward.open(mfaConfig())
        val (_, _, recovery) = enrolled(dw, "cyd")
        val vault = Vault()
        val session = DeviceSession(dw, vault)
        val login = session.login("cyd", PASSWORD)
        check(login is DeviceLogin.MfaRequired) { "a challenge: $login" }
        val challenge = (login as DeviceLogin.MfaRequired).challenge
        check(!login.toString().contains(challenge.flowId)) { "toString hides the flow id: $login" }
        check(vault.pair == null && session.current() == null) { "nothing saved before the second factor" }
        throws<DoorwardException.InvalidCredentials> { session.completeMfa(challenge.flowId, "recovery_code", "aaaaa-aaaaa") }
        val cyd = session.completeMfa(challenge.flowId, "recovery_code", recovery.codes[0])
        eq(cyd.aal, 2.toUByte(), "aal")
        eq(vault.saves, 1, "saved once")
        eq(session.current(), cyd, "current")
        session.logout()
    },

    "a role that requires a second factor asks for enrolment at login" to {
        val dw = Doorward.open(mfaConfig { it.copy(mfaRequiredForRoles = listOf("admin"), freshAuthMaxAge = 900uL) })
        val reg = dw.registerUser("dee", "dee@example.com", PASSWORD)
        dw.login("dee", PASSWORD).expectTokens()
        dw.roles().grant(reg.user.id, "admin")
        val challenge = dw.login("dee", PASSWORD).expectChallenge()
        eq(challenge.enrolmentRequired, true, "enrolment required")
        eq(challenge.methods, listOf("totp"), "methods")
        val key = Totp.base32(dw.mfa().startTotp(reg.user.id).secret)
        val code = Totp.code(key, Instant.now().epochSecond)
        dw.mfa().confirmTotp(reg.user.id, code)
        // The code that confirmed it completes this login.
        val me = dw.verifyToken(dw.completeMfa(challenge.flowId, "totp", code).accessToken())
        eq(me.aal, 2.toUByte(), "aal")
        val config = mfaConfig()
        check(!config.toString().contains(MFA_KEY)) { "Config.toString() hides mfaEncryptionKey: $config" }
    },
)
