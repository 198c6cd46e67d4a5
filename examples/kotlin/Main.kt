// A small app on the doorward Kotlin SDK, the way a phone app uses it:
// a local SQLite store for offline use, a sign-in whose tokens go to the
// platform's secure storage (here a stand-in for the Android Keystore),
// and access tokens verified offline against the server's public keys.
//
// Run by scripts/kotlin: java ... MainKt <data directory>

import doorward.*
import java.nio.file.Path
import kotlinx.coroutines.runBlocking

/** Stand-in for EncryptedSharedPreferences / the Keystore. */
class SecureStorage : TokenStore {
    private var saved: TokenPair? = null
    override fun load(): TokenPair? = saved
    override fun save(pair: TokenPair) {
        saved = pair
    }
    override fun clear() {
        saved = null
    }
}

fun main(args: Array<String>) = runBlocking {
    val dataDir = Path.of(args.firstOrNull() ?: ".")
    val keys = Path.of(System.getProperty("doorward.keys") ?: "tests/keys")

    // The app's local, offline store; tokens signed with the device's own
    // Ed25519 key so they can be checked against its public half.
    val local = Doorward.open(
        Config(
            databaseUrl = "sqlite://${dataDir.resolve("app.db")}",
            jwtAlgorithm = "EdDSA",
            jwtPrivateKey = keys.resolve("ed25519.pem").toString(),
            jwtPublicKey = keys.resolve("ed25519.pub.pem").toString(),
        ),
    )
    println("store: ${local.backend()} in $dataDir")

    local.users().create("maria", "maria@example.com", "a long offline passphrase")
    val session = DeviceSession(local, SecureStorage())
    val me = session.login("maria", "a long offline passphrase", ClientInfo(userAgent = "example-app/1.0"))
    println("signed in as ${me.username} (session ${me.sessionId})")

    // Elsewhere in the app, with only the public keys (from the server's
    // JWKS endpoint in a real app): verify and check permissions offline.
    val verifier = TokenVerifier(local.jwks())
    val token = session.accessToken() ?: error("signed in, so there is a token")
    val principal = verifier.verify(token)
    println("offline verify: ${principal.username}, roles ${principal.roles}")
    println("may read users: ${verifier.can(principal, "users:read")}")
    println("may write users: ${verifier.can(principal, "users:write")}")

    session.logout()
    println("signed out: current = ${session.current()}")
    check(session.current() == null)
}
