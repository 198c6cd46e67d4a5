// What an app pays at launch: from Doorward.open on an existing SQLite
// store to the first verifyToken of a stored token. Two runs of this
// program: `prepare <dir>` leaves a store and a token behind (a previous
// launch), `measure <dir>` times loading the native library (the first
// call), the first open + verify of the process, and then warm reopenings.
//
// See docs/BENCHMARKS.md for the command line.

import doorward.*
import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.runBlocking

fun config(dir: Path) = Config(
    databaseUrl = "sqlite://${dir.resolve("app.db")}",
    jwtSecret = "startup-benchmark-secret-of-32-bytes!!",
)

fun main(args: Array<String>) = runBlocking {
    val (mode, where) = args
    val dir = Path.of(where)
    val tokenFile = dir.resolve("token")
    when (mode) {
        "prepare" -> {
            val dw = Doorward.open(config(dir))
            val reg = dw.registerUser("ann", "ann@example.com", "correct horse battery staple")
            Files.writeString(tokenFile, reg.tokens.accessToken())
            dw.close()
        }
        "measure" -> {
            val token = Files.readString(tokenFile)
            val loadStart = System.nanoTime()
            errorCodes() // the first call loads the native library (JNA)
            val loadMs = (System.nanoTime() - loadStart) / 1e6
            val times = (0 until 21).map {
                val start = System.nanoTime()
                val dw = Doorward.open(config(dir))
                dw.verifyToken(token)
                val ms = (System.nanoTime() - start) / 1e6
                dw.close()
                ms
            }
            val warm = times.drop(1).sorted()
            println("library load (first call): %.1f ms".format(loadMs))
            println("first open + verify in the process: %.1f ms".format(times[0]))
            println("warm open + verify: median %.2f ms, max %.2f ms (20 runs)".format(warm[warm.size / 2], warm.last()))
        }
    }
}
