// An SMTP server on a loopback port for the tests: enough of RFC 5321
// (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for lettre, the core's
// SMTP client, to hand it a plain (unencrypted) message, which it keeps.
//
// Why a sink in Kotlin rather than Python's aiosmtpd: scripts/kotlin needs
// Java and JNA only, and runs on its own after scripts/mobile; starting
// aiosmtpd would tie it to the .venv the Python step builds, and add a
// child process to start, wait for and stop. lettre already meets an
// independent server implementation (aiosmtpd) in the Python suite; what
// this one proves is the Kotlin path: mail_url from the Kotlin Config, a
// flow's mail crossing a real SMTP exchange, and its link read back.

import java.io.BufferedReader
import java.io.InputStreamReader
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.concurrent.thread

class SmtpSink : AutoCloseable {
    /** One accepted message: the envelope, and the data as sent (CRLF line
     * ends, dot-stuffing undone). */
    class Received(val from: String, val to: List<String>, val data: String) {
        /** The value of header `name` (unfolded headers only). */
        fun header(name: String): String? = data.substringBefore("\r\n\r\n").split("\r\n")
            .firstOrNull { it.startsWith("$name:", ignoreCase = true) }?.substringAfter(':')?.trim()

        /** The body with its quoted-printable encoding undone as far as the
         * tests need: soft line breaks (`=` at a line's end) and `=3D`. */
        fun text(): String = data.substringAfter("\r\n\r\n").replace("=\r\n", "").replace("=3D", "=")

        override fun toString() = "Received(subject=${header("Subject")}, recipient and body hidden)"
    }

    val messages = CopyOnWriteArrayList<Received>()
    private val server = ServerSocket(0, 50, InetAddress.getLoopbackAddress())

    init {
        thread(isDaemon = true, name = "smtp-sink") {
            while (!server.isClosed) {
                val socket = try {
                    server.accept()
                } catch (e: java.io.IOException) {
                    break
                }
                thread(isDaemon = true, name = "smtp-sink-session") { socket.use { session(it) } }
            }
        }
    }

    /** What `mail_url` names. */
    val url: String get() = "smtp://127.0.0.1:${server.localPort}"

    private fun session(socket: Socket) {
        val input = BufferedReader(InputStreamReader(socket.getInputStream(), Charsets.UTF_8))
        val output = socket.getOutputStream()
        fun reply(line: String) {
            output.write("$line\r\n".toByteArray(Charsets.UTF_8))
            output.flush()
        }
        reply("220 sink ESMTP")
        var from = ""
        val to = mutableListOf<String>()
        while (true) {
            val line = input.readLine() ?: return
            when (line.take(4).uppercase()) {
                "EHLO", "HELO" -> reply("250 sink")
                "MAIL" -> {
                    from = line.substringAfter(':').trim().removePrefix("<").substringBefore('>')
                    to.clear()
                    reply("250 OK")
                }
                "RCPT" -> {
                    to += line.substringAfter(':').trim().removePrefix("<").substringBefore('>')
                    reply("250 OK")
                }
                "DATA" -> {
                    if (to.isEmpty()) {
                        reply("503 RCPT first")
                        continue
                    }
                    reply("354 end with <CRLF>.<CRLF>")
                    val data = StringBuilder()
                    while (true) {
                        val l = input.readLine() ?: return
                        if (l == ".") break
                        data.append(if (l.startsWith(".")) l.substring(1) else l).append("\r\n")
                    }
                    messages += Received(from, to.toList(), data.toString())
                    to.clear()
                    reply("250 queued")
                }
                "RSET" -> {
                    to.clear()
                    reply("250 OK")
                }
                "QUIT" -> {
                    reply("221 bye")
                    return
                }
                "NOOP" -> reply("250 OK")
                else -> reply("502 not implemented")
            }
        }
    }

    override fun close() = server.close()
}
