// Mail and metrics from Kotlin: the welcome mail in the in-memory mailer
// (sent through the outbox, so after events().flush()), a custom subject,
// send without a mailer, and the Prometheus text of an instance.

import doorward.*

/** The welcome mail alone: registration's verification mail has its tests
 * in FlowsTest.kt. */
fun welcomeConfig(extra: (Config) -> Config = { it }) =
    memoryConfig { extra(it.copy(mailUrl = "memory://", verifyEmailOnRegister = false)) }

val mailTests: List<Pair<String, suspend () -> Unit>> = listOf(
    "a registration sends the welcome mail" to {
        val dw = Doorward.open(welcomeConfig())
        dw.registerUser("john", "john@example.com", PASSWORD)
        dw.events().flush()
        val sent = dw.mail().sent()
        eq(sent.size, 1, "one mail")
        val message = sent[0]
        eq(message.to, "john@example.com", "recipient")
        eq(message.subject, "Welcome, john", "subject")
        eq(message.from, "doorward <noreply@localhost>", "sender")
        check(message.text.contains("john")) { "body: ${message.text}" }
        check(!message.toString().contains("john@example.com") && message.toString().contains("Welcome, john")) {
            "toString hides the address and the body: $message"
        }
    },

    "the welcome subject and body come from the configuration" to {
        val config = welcomeConfig { it.copy(welcomeSubject = "Hi {username}", welcomeText = "Your id is {user_id}.") }
        val dw = Doorward.open(config)
        val reg = dw.registerUser("jane", "jane@example.com", PASSWORD)
        dw.events().flush()
        val message = dw.mail().sent().single()
        eq(message.subject, "Hi jane", "subject")
        eq(message.text, "Your id is ${reg.user.id}.", "body")
    },

    "no welcome mail when welcomeMail is off" to {
        val dw = Doorward.open(welcomeConfig { it.copy(welcomeMail = false) })
        dw.registerUser("john", "john@example.com", PASSWORD)
        dw.events().flush()
        eq(dw.mail().sent(), emptyList(), "nothing sent")
    },

    "send goes through the mailer now" to {
        val dw = Doorward.open(memoryConfig { it.copy(mailUrl = "memory://") })
        dw.mail().send("ann@example.com", "Report", "All good.")
        val message = dw.mail().sent().single()
        eq(listOf(message.to, message.subject, message.text), listOf("ann@example.com", "Report", "All good."), "message")
    },

    "send without a mailer is a Config error, and so is sent()" to {
        val dw = Doorward.open(memoryConfig())
        eq(throws<DoorwardException.Config> { dw.mail().send("ann@example.com", "Report", "All good.") }.code(), "config_error", "code")
        throws<DoorwardException.Config> { dw.mail().sent() }
    },

    "the mail password stays out of the config's toString" to {
        val config = memoryConfig { it.copy(mailUrl = "smtp://127.0.0.1:2525", mailUsername = "mailer", mailPassword = "mail-password-123") }
        check(!config.toString().contains("mail-password-123")) { "toString hides the mail password: $config" }
    },

    "URL passwords stay out of the config's toString" to {
        val config = memoryConfig {
            it.copy(databaseUrl = "postgres://app:db-password-123@db.internal/app", redisUrl = "redis://:redis-password-123@cache.internal")
        }
        val shown = config.toString()
        check(!shown.contains("db-password-123") && !shown.contains("redis-password-123")) { "toString hides URL passwords: $shown" }
        check(shown.contains("db.internal")) { "toString still names the database host: $shown" }
    },

    "metricsText counts a registration" to {
        val dw = Doorward.open(memoryConfig())
        dw.registerUser("john", "john@example.com", PASSWORD)
        val lines = dw.metricsText().lines()
        check("doorward_registrations_total 1" in lines) { "registrations: $lines" }
        check(lines.any { it.startsWith("doorward_active_sessions") }) { "active sessions: $lines" }
        check(lines.any { it.startsWith("doorward_operation_duration_seconds_bucket{operation=\"auth.register_user\"") }) {
            "register_user latency: $lines"
        }
        val other = Doorward.open(memoryConfig())
        check("doorward_registrations_total 1" !in other.metricsText().lines()) { "each instance counts its own" }
    },
)
