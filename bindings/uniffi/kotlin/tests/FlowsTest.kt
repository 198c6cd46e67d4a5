// The account flows from Kotlin, end to end: each mail read from the
// mailer (in memory, and once over a real SMTP exchange with SmtpSink),
// its link or code completing email verification, password reset,
// sign-in by email and email change; the attempt cap (FlowInvalid, then
// FlowExpired), the same answer and no mail for an unknown address, the
// resend cooldown, unverified logins refused, and the new error codes'
// HTTP answers.

import doorward.*

const val APP_URL = "https://app.example.com"
const val FLOW_PASSWORD = "a brand new passphrase"

/** A mailer in memory, links to APP_URL, no welcome mail (MailTest.kt
 * has it) and no resend cooldown: the tests ask again at once (the
 * cooldown has its own test). */
fun flowsConfig(base: Config = memoryConfig(), extra: (Config) -> Config = { it }) = extra(
    base.copy(mailUrl = "memory://", appUrl = APP_URL, welcomeMail = false, flowResendCooldown = 0uL, eventsPollIntervalMs = 20uL),
)

/** What a user reads in an account mail: the link's flow id and secret,
 * and the code. Not a data class, so a failure message never prints the
 * secrets. */
class Mailed(val flowId: String, val secret: String, val code: String) {
    companion object {
        fun parse(text: String): Mailed {
            val words = text.split(Regex("\\s+"))
            val link = words.firstOrNull { it.startsWith("$APP_URL/") } ?: throw AssertionError("no link in the mail")
            val query = link.substringAfter('?').split('&').associate { it.substringBefore('=') to it.substringAfter('=') }
            val code = words.map { it.trimEnd('.') }.firstOrNull { it.length >= 6 && it.all(Char::isDigit) }
                ?: throw AssertionError("no code in the mail")
            return Mailed(query.getValue("flow"), query.getValue("secret"), code)
        }
    }
}

/** The newest mail to `to` with `subject`, once the outbox has sent it. */
suspend fun mailed(dw: Doorward, to: String, subject: String): Pair<Message, Mailed> {
    fun find() = dw.mail().sent().lastOrNull { it.to == to && it.subject == subject }
    eventually(dw, "the mail \"$subject\"") { find() != null }
    val message = find()!!
    return message to Mailed.parse(message.text)
}

/** The mail of the flow a request answered with `started`. */
suspend fun mailOf(dw: Doorward, started: FlowStarted): Pair<Message, Mailed> {
    fun find() = dw.mail().sent().firstOrNull { it.text.contains("flow=${started.flowId}&") }
    eventually(dw, "the flow's mail") { find() != null }
    val message = find()!!
    return message to Mailed.parse(message.text)
}

val flowsTests: List<Pair<String, suspend () -> Unit>> = listOf(
    "registration mails a verification; the code verifies, the used link no longer does (memory, SQLite)" to {
        for (base in listOf(memoryConfig(), sqliteConfig())) {
            val dw = Doorward.open(flowsConfig(base))
            val reg = dw.registerUser("ann", "ann@example.com", PASSWORD)
            eq(reg.user.emailVerifiedAt, null, "not verified at registration")
            val (message, m) = mailed(dw, "ann@example.com", "Confirm your email address")
            check(message.text.contains("Hello ann,")) { "greeting: ${message.subject}" }
            check(message.text.contains("$APP_URL/verify?flow=${m.flowId}&secret=")) { "verification link (${dw.backend()})" }
            check(message.text.contains("24 hours")) { "lifetime in the mail" }
            val user = dw.verifyEmail(m.flowId, m.code)
            eq(user.id, reg.user.id, "the account")
            check(user.emailVerifiedAt != null) { "emailVerifiedAt set (${dw.backend()})" }
            eq(dw.users().get(reg.user.id).emailVerifiedAt, user.emailVerifiedAt, "stored")
            val used = throws<DoorwardException.FlowInvalid> { dw.verifyEmail(m.flowId, m.secret) }
            eq(used.code(), "flow_invalid", "code")
            eq(throws<DoorwardException.Validation> { dw.requestEmailVerification(reg.user.id) }.field, "email", "verified already")
        }
    },

    "requestEmailVerification mails a link that verifies" to {
        val dw = Doorward.open(flowsConfig { it.copy(verifyEmailOnRegister = false) })
        val bob = dw.users().create("bob", "bob@example.com", PASSWORD)
        dw.events().flush()
        eq(dw.mail().sent().size, 0, "no mail without asking")
        val started = dw.requestEmailVerification(bob.id)
        eq(started.expiresIn, 86_400uL, "verify_email_ttl")
        val (message, m) = mailOf(dw, started)
        eq(message.to, "bob@example.com", "recipient")
        eq(m.flowId, started.flowId, "the flow the request answered")
        check(!started.toString().contains(m.secret) && !started.toString().contains(m.code)) { "FlowStarted carries no secret" }
        check(dw.verifyEmail(m.flowId, m.secret).emailVerifiedAt != null) { "verified by the link" }
        throws<DoorwardException.NotFound> { dw.requestEmailVerification("01234567-89ab-7def-8123-456789abcdef") }
    },

    "a password reset by link sets the password, ends every session and verifies the address" to {
        val dw = Doorward.open(flowsConfig { it.copy(rateLimitLoginAccount = "off") })
        val reg = dw.registerUser("cyd", "cyd@example.com", PASSWORD)
        val other = dw.login("cyd", PASSWORD).expectTokens()
        val started = dw.requestPasswordReset("CYD@example.com", ClientInfo(ip = "203.0.113.5"))
        eq(started.expiresIn, 3_600uL, "reset_password_ttl")
        val (message, m) = mailOf(dw, started)
        eq(message.subject, "Reset your password", "subject")
        // To the address as asked for, which found the account whatever its case.
        check(message.to.equals("cyd@example.com", ignoreCase = true)) { "recipient" }
        check(message.text.contains("$APP_URL/reset?flow=")) { "reset link" }
        // A weak password is refused before the secret is spent.
        eq(throws<DoorwardException.Validation> { dw.resetPassword(m.flowId, m.secret, "cyd") }.field, "password", "weak")
        dw.resetPassword(m.flowId, m.secret, FLOW_PASSWORD)
        for (tokens in listOf(reg.tokens, other)) {
            throws<DoorwardException.TokenRevoked> { dw.verifyToken(tokens.accessToken()) }
        }
        throws<DoorwardException.InvalidCredentials> { dw.login("cyd", PASSWORD) }
        eq(dw.verifyToken(dw.login("cyd", FLOW_PASSWORD).expectTokens().accessToken()).userId, reg.user.id, "the new password")
        check(dw.users().get(reg.user.id).emailVerifiedAt != null) { "the mail proved the address" }
        throws<DoorwardException.FlowInvalid> { dw.resetPassword(m.flowId, m.code, "another fine passphrase") }
    },

    "a password reset by code" to {
        val dw = Doorward.open(flowsConfig { it.copy(verifyEmailOnRegister = false) })
        dw.registerUser("dina", "dina@example.com", PASSWORD)
        dw.requestPasswordReset("dina@example.com")
        val (_, m) = mailed(dw, "dina@example.com", "Reset your password")
        dw.resetPassword(m.flowId, m.code, FLOW_PASSWORD)
        dw.login("dina@example.com", FLOW_PASSWORD).expectTokens()
    },

    "sign-in by email: the link starts a session; a new address may sign up" to {
        val dw = Doorward.open(flowsConfig())
        val reg = dw.registerUser("hugh", "hugh@example.com", PASSWORD)
        val started = dw.requestSignIn("hugh@example.com")
        eq(started.expiresIn, 600uL, "sign_in_ttl")
        val (message, m) = mailOf(dw, started)
        eq(message.subject, "Your sign-in link", "subject")
        check(message.text.contains("$APP_URL/sign-in/email?flow=")) { "sign-in link" }
        check(message.text.contains("10 minutes")) { "lifetime in the mail" }
        val tokens = dw.completeSignIn(m.flowId, m.secret, ClientInfo(ip = "198.51.100.7", userAgent = "kotlin")).expectTokens()
        check(!tokens.toString().contains(tokens.accessToken())) { "toString hides the tokens" }
        val who = dw.verifyToken(tokens.accessToken())
        eq(who.userId, reg.user.id, "signed in as hugh")
        check(dw.sessions().list(reg.user.id).any { it.id == who.sessionId && it.ip == "198.51.100.7" }) { "client kept" }
        check(dw.users().get(reg.user.id).emailVerifiedAt != null) { "the mail proved the address" }
        throws<DoorwardException.FlowInvalid> { dw.completeSignIn(m.flowId, m.code) }

        val open = Doorward.open(flowsConfig { it.copy(signInCreatesUsers = true) })
        open.requestSignIn("New.Person@example.com")
        val (_, n) = mailed(open, "New.Person@example.com", "Your sign-in link")
        val user = open.users().get(open.verifyToken(open.completeSignIn(n.flowId, n.code).expectTokens().accessToken()).userId)
        eq(listOf(user.username, user.email), listOf("New.Person", "New.Person@example.com"), "the new account")
        check(user.emailVerifiedAt != null) { "verified by signing in" }
    },

    "an email change is confirmed from the new address; the old one is told" to {
        val dw = Doorward.open(flowsConfig { it.copy(rateLimitLoginAccount = "off") })
        val reg = dw.registerUser("ivy", "ivy@example.com", PASSWORD)
        dw.registerUser("joe", "joe@example.com", PASSWORD)
        val users = dw.users()
        throws<DoorwardException.InvalidCredentials> { users.requestEmailChange(reg.user.id, "ivy@new.example", "not the password") }
        throws<DoorwardException.DuplicateEmail> { users.requestEmailChange(reg.user.id, "joe@example.com", PASSWORD) }
        eq(throws<DoorwardException.Validation> { users.requestEmailChange(reg.user.id, "ivy@example.com", PASSWORD) }.field, "email", "same address")
        val started = users.requestEmailChange(reg.user.id, "Ivy@New.Example", PASSWORD)
        eq(started.expiresIn, 3_600uL, "change_email_ttl")
        val (notice, _) = run {
            fun find() = dw.mail().sent().firstOrNull { it.subject == "Your email address is being changed" }
            eventually(dw, "the notice") { find() != null }
            find()!! to Unit
        }
        eq(notice.to, "ivy@example.com", "the notice goes to the old address")
        val (message, m) = mailed(dw, "Ivy@new.example", "Confirm your new email address")
        eq(m.flowId, started.flowId, "the flow the request answered")
        check(message.text.contains("$APP_URL/email-change?flow=")) { "email change link" }
        eq(users.get(reg.user.id).email, "ivy@example.com", "the old address stays until confirmed")
        val user = users.confirmEmailChange(m.flowId, m.code)
        eq(user.email, "Ivy@new.example", "the new address")
        check(user.emailVerifiedAt != null) { "the new address is verified" }
        dw.login("ivy@new.example", PASSWORD).expectTokens()
        throws<DoorwardException.InvalidCredentials> { dw.login("ivy@example.com", PASSWORD) }
        throws<DoorwardException.FlowInvalid> { users.confirmEmailChange(m.flowId, m.secret) }
    },

    "five wrong secrets: FlowInvalid with the attempts left, then FlowExpired" to {
        val dw = Doorward.open(flowsConfig())
        dw.registerUser("bob", "bob@example.com", PASSWORD)
        val started = dw.requestSignIn("bob@example.com")
        val (_, m) = mailOf(dw, started)
        for (left in 4 downTo 1) {
            val wrong = throws<DoorwardException.FlowInvalid> { dw.completeSignIn(m.flowId, "999999") }
            check(wrong.reason.endsWith("; $left attempts left")) { "attempts left: ${wrong.reason}" }
            if (left == 4) {
                val answer = wrong.httpResponse(false)
                eq(answer.status, 400.toUShort(), "flow_invalid status")
                check(answer.body.startsWith("{\"error\":{\"code\":\"flow_invalid\",\"message\":\"this link or code is wrong")) { answer.body }
                eq(answer.headers, emptyMap(), "no challenge, no Retry-After")
            }
        }
        val spent = throws<DoorwardException.FlowExpired> { dw.completeSignIn(m.flowId, "999999") }
        eq(spent.code(), "flow_expired", "code")
        val answer = spent.httpResponse(false)
        eq(answer.status, 410.toUShort(), "flow_expired status")
        check(answer.body.startsWith("{\"error\":{\"code\":\"flow_expired\",")) { answer.body }
        // Dead even to the right code.
        throws<DoorwardException.FlowExpired> { dw.completeSignIn(m.flowId, m.code) }
        // Input that is not a flow is a validation error, not an attempt.
        eq(throws<DoorwardException.Validation> { dw.verifyEmail("not-a-flow", "123456") }.field, "flow_id", "field")
    },

    "an unknown address gets the same answer and no mail" to {
        val dw = Doorward.open(flowsConfig { it.copy(verifyEmailOnRegister = false) })
        dw.registerUser("eddy", "eddy@example.com", PASSWORD)
        dw.events().flush()
        val before = dw.mail().sent().size
        eq(before, 0, "no mail before asking")
        val known = dw.requestPasswordReset("eddy@example.com")
        val unknown = dw.requestPasswordReset("nobody@example.com")
        eq(unknown.expiresIn, known.expiresIn, "reset: expiresIn")
        eq(unknown.flowId.length, known.flowId.length, "reset: flow id shape")
        val a = dw.requestSignIn("eddy@example.com")
        val b = dw.requestSignIn("nobody@example.com")
        eq(b.expiresIn, a.expiresIn, "sign-in: expiresIn")
        // Completing the unknown address's flow answers like a wrong code
        // on the known one.
        for (flow in listOf(a, b)) {
            val wrong = throws<DoorwardException.FlowInvalid> { dw.completeSignIn(flow.flowId, "123123") }
            check(wrong.reason.endsWith("; 4 attempts left")) { wrong.reason }
        }
        eventually(dw, "the known address's two mails") { dw.mail().sent().size >= before + 2 }
        dw.events().flush()
        val sent = dw.mail().sent()
        eq(sent.size, before + 2, "a reset and a sign-in mail, to eddy only")
        check(sent.none { it.to == "nobody@example.com" }) { "nothing to the unknown address" }

        // With unknownAddressMail on, the address is told instead.
        val telling = Doorward.open(flowsConfig { it.copy(unknownAddressMail = true) })
        telling.requestPasswordReset("nobody@example.com")
        val (notice, _) = run {
            fun find() = telling.mail().sent().firstOrNull { it.to == "nobody@example.com" }
            eventually(telling, "the notice") { find() != null }
            find()!! to Unit
        }
        eq(notice.subject, "Someone used this address", "subject")
        check(notice.text.contains(APP_URL)) { "names the app" }
    },

    "asking again waits for the resend cooldown" to {
        val dw = Doorward.open(flowsConfig { it.copy(flowResendCooldown = 60uL, verifyEmailOnRegister = false) })
        dw.registerUser("gil", "gil@example.com", PASSWORD)
        val client = ClientInfo(ip = "203.0.113.9")
        dw.requestSignIn("gil@example.com", client)
        val limited = throws<DoorwardException.RateLimited> { dw.requestSignIn("GIL@example.com", client) }
        check(limited.retryAfterMs >= 59_000uL) { "retryAfterMs: ${limited.retryAfterMs}" }
        eq(limited.httpResponse(false).status, 429.toUShort(), "status")
        // Another purpose has its own cooldown.
        dw.requestPasswordReset("gil@example.com", client)
    },

    "unverified accounts may be refused at login; markEmailVerified lets them in" to {
        val dw = Doorward.open(flowsConfig { it.copy(requireVerifiedEmailForLogin = true, rateLimitLoginAccount = "off") })
        val reg = dw.registerUser("kofi", "kofi@example.com", PASSWORD)
        throws<DoorwardException.InvalidCredentials> { dw.login("kofi", "not the password") }
        val refused = throws<DoorwardException.EmailNotVerified> { dw.login("kofi", PASSWORD) }
        eq(refused.code(), "email_not_verified", "code")
        val answer = refused.httpResponse(false)
        eq(answer.status, 403.toUShort(), "status")
        check(answer.body.startsWith("{\"error\":{\"code\":\"email_not_verified\",")) { answer.body }
        val user = dw.users().markEmailVerified(reg.user.id)
        check(user.emailVerifiedAt != null) { "verified by an administrator" }
        dw.login("kofi", PASSWORD).expectTokens()
        throws<DoorwardException.NotFound> { dw.users().markEmailVerified("01234567-89ab-7def-8123-456789abcdef") }
    },

    "flow events carry no secret and no address" to {
        val dw = Doorward.open(flowsConfig())
        val reg = dw.registerUser("nyla", "nyla@example.com", PASSWORD)
        val (_, v) = mailed(dw, "nyla@example.com", "Confirm your email address")
        dw.requestPasswordReset("nyla@example.com")
        val (_, r) = mailed(dw, "nyla@example.com", "Reset your password")
        dw.verifyEmail(v.flowId, v.code)
        val events = dw.events().list(limit = 500u).items
        val types = events.map { it.eventType }
        for (t in listOf("EmailVerificationRequested", "PasswordResetRequested", "EmailVerified")) {
            check(t in types) { "$t missing from $types" }
            check(t in eventTypes()) { "$t in eventTypes()" }
        }
        val text = events.joinToString(" ") { it.payloadJson + it.toString() }
        for (secret in listOf(v.secret, v.code, r.secret, r.code)) {
            check(!text.contains(secret)) { "a secret is in the events" }
        }
        check(!text.contains("nyla@example.com")) { "an address is in the events" }
        check(events.any { it.subject == reg.user.id && it.eventType == "EmailVerified" }) { "EmailVerified is about nyla" }
    },

    "flow mails cross a real SMTP exchange: the verification code and the reset link" to {
        SmtpSink().use { sink ->
            val dw = Doorward.open(flowsConfig { it.copy(mailUrl = sink.url) })
            dw.registerUser("ole", "ole@example.com", PASSWORD)
            dw.requestPasswordReset("ole@example.com")
            fun find(subject: String) = sink.messages.firstOrNull { it.header("Subject") == subject }
            eventually(dw, "both mails at the SMTP server") {
                find("Confirm your email address") != null && find("Reset your password") != null
            }
            eq(sink.messages.size, 2, "the verification and the reset, no welcome mail")
            val reset = find("Reset your password")!!
            eq(reset.to, listOf("ole@example.com"), "envelope recipient")
            eq(reset.from, "noreply@localhost", "envelope sender")
            eq(reset.header("To"), "ole@example.com", "To header")
            check(!reset.toString().contains("ole@example.com")) { "toString hides the recipient" }
            // The bodies are quoted-printable (the link is longer than a
            // line may be): SmtpSink.Received.text() undoes the soft line
            // breaks and `=3D` before the link is read.
            eq(reset.header("Content-Transfer-Encoding"), "quoted-printable", "encoding")
            check(reset.data.contains("/reset?flow=3D") && reset.data.contains("=\r\n")) { "the raw body is encoded" }
            val verification = Mailed.parse(find("Confirm your email address")!!.text())
            check(dw.verifyEmail(verification.flowId, verification.code).emailVerifiedAt != null) { "verified by the mailed code" }
            val body = reset.text()
            check(body.contains("$APP_URL/reset?flow=")) { "reset link in the SMTP body" }
            val m = Mailed.parse(body)
            dw.resetPassword(m.flowId, m.secret, FLOW_PASSWORD)
            dw.login("ole", FLOW_PASSWORD).expectTokens()
        }
    },
)
