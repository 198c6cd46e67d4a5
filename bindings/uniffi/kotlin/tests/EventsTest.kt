// Events, webhooks and the audit log from Kotlin: a Kotlin handler
// subscribed to events, retries when it throws, signed webhooks verified
// here with javax.crypto, dead letters and replay, the audit chain.

import doorward.*
import java.time.Instant
import java.util.Collections
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.delay

/** Retries wait for a backoff, so keep them short; receivers are on loopback. */
fun eventsConfig(extra: (Config) -> Config = { it }) = memoryConfig {
    extra(it.copy(eventsRetryBaseMs = 5u, eventsRetryMaxSecs = 1u, eventsMaxAttempts = 3u, webhookAllowPrivate = true))
}

/**
 * Flush until `done`: for what waits on a retry's backoff, which `flush`
 * leaves queued until it is due. Everything else in these tests is one
 * `flush()` and no waiting.
 */
suspend fun eventually(dw: Doorward, what: String, done: suspend () -> Boolean) {
    val deadline = System.nanoTime() + 20_000_000_000L
    while (true) {
        dw.events().flush()
        if (done()) return
        if (System.nanoTime() > deadline) throw AssertionError("timed out waiting for $what")
        delay(5)
    }
}

/** Records what it is given; throws for its first `failures` calls. */
class Recorder(private val failures: Int = 0) : EventHandler {
    val seen: MutableList<Event> = Collections.synchronizedList(mutableListOf())
    val calls = AtomicInteger()

    override fun onEvent(event: Event) {
        val call = calls.incrementAndGet()
        // Either way of refusing means "retry": the declared error, or
        // any exception at all.
        if (call <= failures) {
            if (call % 2 == 0) throw EventHandlerException.Retry("busy")
            throw IllegalStateException("not yet")
        }
        seen.add(event)
    }
}

val eventsTests: List<Pair<String, suspend () -> Unit>> = listOf(
    "a Kotlin handler receives UserRegistered" to {
        val dw = Doorward.open(eventsConfig())
        val recorder = Recorder()
        val sub = dw.events().subscribe(recorder, listOf("UserRegistered"))
        check(sub.isOpen()) { "open" }
        val reg = dw.registerUser("john", "john@example.com", PASSWORD, ClientInfo(ip = "10.0.0.1"))
        dw.events().flush()
        eq(recorder.seen.map { it.eventType }, listOf("UserRegistered"), "only the subscribed type")
        val event = recorder.seen[0]
        eq(event.subject, reg.user.id, "subject")
        eq(event.ip, "10.0.0.1", "client kept")
        check(event.payloadJson.contains("\"username\":\"john\"")) { "payload: ${event.payloadJson}" }
        check(!event.payloadJson.contains(PASSWORD)) { "no password in the payload" }
        check(!event.occurredAt.isAfter(Instant.now())) { "occurredAt is an Instant" }

        // Closed (AutoCloseable): nothing more arrives.
        sub.close()
        dw.users().create("ann", "ann@example.com", PASSWORD)
        dw.events().flush()
        eq(recorder.seen.size, 1, "closed")

        // The outbox, paged.
        val all = dw.events().list()
        eq(all.items.map { it.eventType }, listOf("UserRegistered", "LoginSucceeded", "UserRegistered"), "outbox")
        val first = dw.events().list(limit = 2u)
        eq(dw.events().list(cursor = first.nextCursor).items.map { it.seq }, listOf(all.items[2].seq), "next page")
        eq(eventTypes().size, 38, "event types")
        for (type in listOf("FileStored", "IdentityLinked", "IdentityUnlinked", "UsersImported", "WebhookAdded", "WebhookRemoved", "DeliveryReplayed")) check(type in eventTypes()) { "$type listed" }
        eq(throws<DoorwardException.Validation> { dw.events().subscribe(recorder, listOf("userRegistered")) }.field, "event_type", "unknown type")
        eq(throws<DoorwardException.Validation> { dw.events().subscribe(recorder, name = "no spaces") }.field, "name", "bad name")
        val quiet = Doorward.open(memoryConfig { it.copy(eventsDispatch = false) })
        throws<DoorwardException.Config> { quiet.events().subscribe(recorder) }
    },

    "a handler that throws is retried" to {
        val dw = Doorward.open(eventsConfig())
        val recorder = Recorder(failures = 2)
        dw.events().subscribe(recorder, listOf("RoleCreated")).use {
            dw.roles().create("editor", listOf("posts:*"))
            eventually(dw, "the third attempt") { recorder.seen.isNotEmpty() }
            eq(recorder.calls.get(), 3, "two refusals, then handled")
            eq(recorder.seen.map { it.subject }, listOf("editor"), "handled once")
        }
    },

    "webhooks are signed per Standard Webhooks" to {
        // The verifier itself, on the specification's example.
        check(verifyWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "{\"test\": 2432232314}", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")) { "spec vector" }
        val dw = Doorward.open(eventsConfig())
        Receiver().use { receiver ->
            val hook = dw.webhooks().add(receiver.url, listOf("RoleCreated"))
            check(hook.secret.startsWith("whsec_")) { "secret" }
            eq(hook.eventTypes, listOf("RoleCreated"), "types")
            check(!hook.toString().contains(hook.secret) && hook.toString().contains(hook.id)) { "toString hides the secret: $hook" }
            eq(dw.webhooks().list(), listOf(hook), "listed")
            dw.roles().create("editor", listOf("posts:*"))
            dw.users().create("ann", "ann@example.com", PASSWORD) // not subscribed
            dw.events().flush()
            eq(receiver.requests.size, 1, "one request")
            val request = receiver.requests[0]
            check(verifyWebhook(hook.secret, request.id, request.timestamp, request.body, request.signature)) { "signature: $request" }
            check(!verifyWebhook(hook.secret, request.id, request.timestamp, request.body + " ", request.signature)) { "a changed body fails" }
            check(Math.abs(request.timestamp.toLong() - Instant.now().epochSecond) < 300) { "timestamp is now" }
            check(request.body.contains("\"type\":\"RoleCreated\"")) { "body: ${request.body}" }
            eq(dw.events().deliveries(status = "delivered").map { it.eventId }, listOf(request.id), "delivered")

            val test = dw.webhooks().test(hook.id)
            eq(test, WebhookTest(ok = true, error = null), "test message")
            val sent = receiver.requests.last()
            check(sent.body.contains("doorward.test") && verifyWebhook(hook.secret, sent.id, sent.timestamp, sent.body, sent.signature)) { "test signed" }

            dw.webhooks().remove(hook.id)
            eq(dw.webhooks().list(), emptyList<Webhook>(), "removed")
            throws<DoorwardException.NotFound> { dw.webhooks().remove(hook.id) }
            throws<DoorwardException.NotFound> { dw.webhooks().test(hook.id) }
            eq(throws<DoorwardException.Validation> { dw.webhooks().add("ftp://example.com/hook") }.field, "url", "field")
            val strict = Doorward.open(memoryConfig())
            eq(throws<DoorwardException.Validation> { strict.webhooks().add("http://127.0.0.1:9/hook") }.field, "url", "loopback refused by default")
            eq(throws<DoorwardException.Validation> { dw.events().deliveries(status = "lost") }.field, "status", "field")
        }
    },

    "a failing receiver dead-letters, and replay delivers" to {
        val dw = Doorward.open(eventsConfig())
        Receiver(listOf(500, 500, 500)).use { receiver ->
            dw.webhooks().add(receiver.url)
            dw.roles().create("editor", listOf("posts:*"))
            eventually(dw, "the dead letter") { dw.events().dead().isNotEmpty() }
            eq(receiver.requests.size, 3, "every attempt reached the receiver")
            val dead = dw.events().dead()
            eq(dead.size, 1, "one dead delivery")
            eq(dead[0].status, "dead", "status")
            eq(dead[0].attempts, 3u, "attempts")
            eq(dead[0].lastError, "HTTP 500", "last error")
            // The receiver answers 200 from now on.
            dw.events().replay(dead[0].id)
            dw.events().flush()
            eq(receiver.requests.size, 4, "replayed")
            eq(receiver.requests.map { it.id }.toSet().size, 1, "one webhook-id across attempts")
            eq(dw.events().dead(), emptyList<DeliveryRecord>(), "nothing dead")
            eq(throws<DoorwardException.NotFound> { dw.events().replay(dead[0].id) }.code(), "not_found", "only dead ones replay")
        }
    },

    "the audit log lists, exports and verifies" to {
        val dw = Doorward.open(sqliteConfig())
        val reg = dw.registerUser("john", "john@example.com", PASSWORD)
        dw.roles().grant(reg.user.id, "moderator")
        throws<DoorwardException.InvalidCredentials> { dw.login("john", "wrong password here") }
        dw.events().flush()
        val audit = dw.audit()
        val all = audit.list()
        eq(all.items.map { it.eventType }, listOf("UserRegistered", "LoginSucceeded", "RoleGranted", "LoginFailed"), "rows")
        eq(all.items.map { it.outcome }, listOf("success", "success", "success", "failure"), "outcomes")
        eq(all.items.map { it.seq }, listOf(1uL, 2uL, 3uL, 4uL), "numbered")
        eq(all.items[1].prevHash, all.items[0].hash, "chained")
        eq(audit.list(eventType = "RoleGranted").items.single().subject, reg.user.id, "by type")
        eq(audit.list(userId = reg.user.id).items.size, 4, "by user")
        eq(audit.list(since = Instant.now().plusSeconds(60)).items, emptyList<AuditRecord>(), "since")
        eq(audit.list(until = Instant.now().minusSeconds(60)).items, emptyList<AuditRecord>(), "until")
        val page = audit.list(limit = 3u)
        eq(audit.list(cursor = page.nextCursor).items.map { it.seq }, listOf(4uL), "next page")
        val verified = audit.verify()
        check(verified.ok) { "verified: $verified" }
        eq(verified.rows, 4uL, "rows checked")
        eq(verified.head, all.items.last().hash, "head")
        val lines = audit.export().trim().lines()
        eq(lines.size, 4, "JSON Lines")
        check(lines.all { it.startsWith("{") && it.contains("\"hash\"") }) { "rows as JSON" }
        eq(audit.export(since = Instant.now().plusSeconds(60)), "", "nothing since")
        eq(throws<DoorwardException.Validation> { audit.list(eventType = "Nope") }.field, "event_type", "field")
        eq(throws<DoorwardException.Validation> { audit.list(cursor = "x") }.field, "cursor", "field")
    },
)
