// A webhook receiver on a loopback port for the tests: records each
// request's Standard Webhooks headers and body, and answers with the
// statuses it is given (then 200).

import com.sun.net.httpserver.HttpServer
import java.net.InetAddress
import java.net.InetSocketAddress
import java.security.MessageDigest
import java.util.Base64
import java.util.concurrent.CopyOnWriteArrayList
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

class Receiver(statuses: List<Int> = emptyList()) : AutoCloseable {
    data class Request(val id: String, val timestamp: String, val signature: String, val body: String)

    private val pending = ArrayDeque(statuses)
    val requests = CopyOnWriteArrayList<Request>()
    private val server = HttpServer.create(InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0)

    init {
        server.createContext("/hook") { exchange ->
            val headers = exchange.requestHeaders
            val body = exchange.requestBody.readBytes().toString(Charsets.UTF_8)
            // Recorded before answering: once doorward has its answer, the
            // test sees the request.
            requests.add(
                Request(
                    headers.getFirst("webhook-id") ?: "",
                    headers.getFirst("webhook-timestamp") ?: "",
                    headers.getFirst("webhook-signature") ?: "",
                    body,
                ),
            )
            val status = synchronized(pending) { pending.removeFirstOrNull() } ?: 200
            exchange.sendResponseHeaders(status, -1)
            exchange.close()
        }
        server.start()
    }

    val url: String get() = "http://127.0.0.1:${server.address.port}/hook"

    override fun close() = server.stop(0)
}

/**
 * Whether `signatures` (the `webhook-signature` header: space-separated
 * `v1,<base64>` entries) holds the Standard Webhooks signature of the
 * message: HMAC-SHA256 over `"{id}.{timestamp}.{body}"` keyed with the
 * base64-decoded part of the secret after `whsec_`, compared in constant time.
 */
fun verifyWebhook(secret: String, id: String, timestamp: String, body: String, signatures: String): Boolean {
    check(secret.startsWith("whsec_")) { "a Standard Webhooks secret" }
    val key = Base64.getDecoder().decode(secret.removePrefix("whsec_"))
    val mac = Mac.getInstance("HmacSHA256")
    mac.init(SecretKeySpec(key, "HmacSHA256"))
    val expected = "v1," + Base64.getEncoder().encodeToString(mac.doFinal("$id.$timestamp.$body".toByteArray()))
    return signatures.split(" ").any { MessageDigest.isEqual(it.toByteArray(), expected.toByteArray()) }
}
