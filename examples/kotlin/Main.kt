// A small app on the doorward Kotlin SDK, the way a phone app uses it:
// a local SQLite store for offline use, a sign-in whose tokens go to the
// platform's secure storage (here a stand-in for the Android Keystore),
// access tokens verified offline against the server's public keys, and
// the user's avatar kept with the app's files.
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

/** The app's redirect URI: its own scheme, registered at the provider. */
const val REDIRECT_URI = "com.example.app:/oauth/callback"

/**
 * "Sign in with Corp": the app is a public client of the provider (no
 * client secret; PKCE protects the code), configured as
 * `OAuthProviderConfig(id = "corp", clientId = ..., issuer = ...)`.
 * `openBrowserTab` opens the URL in a Custom Tab and answers the
 * `com.example.app:/oauth/callback?...` URL the app's intent filter
 * receives. Signed in, the tokens go to the app's secure storage, where
 * the device session finds them. Not run here: it needs the provider (the
 * Kotlin tests run this flow against a real one).
 */
suspend fun signInWithProvider(
    dw: Doorward,
    storage: TokenStore,
    provider: String,
    openBrowserTab: suspend (String) -> String,
): LoginResult? {
    val start = dw.oauth().authorizationUrl(provider, REDIRECT_URI)
    // start.state stays in memory until the callback; start.url goes to the tab.
    val callback = openBrowserTab(start.url)
    val done = try {
        dw.oauth().complete(callback, start.state, ClientInfo(userAgent = "example-app/1.0"))
    } catch (e: DoorwardException.OAuthProvider) {
        // The user cancelled (access_denied) or the provider refused.
        println("$provider did not sign you in: ${e.oauthError}")
        return null
    } catch (e: DoorwardException.AccountExists) {
        // An account has this address: sign in with its password, then
        // link the provider from the account screen (dw.oauth().link).
        println("sign in with your password, then link $provider from your account")
        return null
    }
    (done.login as? LoginResult.Tokens)?.let { storage.save(it.tokens) }
    // MfaRequired: ask for the code, then DeviceSession.completeMfa.
    return done.login
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

    local.registerUser("maria", "maria@example.com", "a long offline passphrase")
    val session = DeviceSession(local, SecureStorage())
    val me = when (val login = session.login("maria", "a long offline passphrase", ClientInfo(userAgent = "example-app/1.0"))) {
        is DeviceLogin.SignedIn -> login.principal
        // With an authenticator enrolled (dw.mfa().startTotp / confirmTotp):
        // ask for its code, then session.completeMfa(flowId, "totp", code).
        is DeviceLogin.MfaRequired -> error("maria has no second factor yet: ${login.challenge}")
    }
    println("signed in as ${me.username} (session ${me.sessionId}, level ${me.aal}, ${me.amr})")

    // The profile picture, stored beside the app's database (files_url
    // defaults to a folder next to the SQLite file) and read back.
    val avatar = byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte(), 0x0d, 0x0a, 0x1a, 0x0a)
    val stored = local.files().put("avatars/${me.userId}.png", avatar, "image/png")
    println("avatar stored: ${stored.key} (${stored.size} bytes, ${stored.contentType})")
    val back = local.files().get(stored.key)
    check(back.data.contentEquals(avatar)) { "the same avatar back" }
    println("avatar read back: ${back.data.size} bytes, ${back.info.contentType}")

    // Elsewhere in the app, with only the public keys (from the server's
    // JWKS endpoint in a real app): verify and check permissions offline.
    val verifier = TokenVerifier(local.jwks())
    val token = session.accessToken() ?: error("signed in, so there is a token")
    val principal = verifier.verify(token)
    println("offline verify: ${principal.username}, roles ${principal.roles}")
    println("may read users: ${verifier.can(principal, "users:read")}")
    println("may write users: ${verifier.can(principal, "users:write")}")

    // What a server would serve at /metrics (Prometheus text).
    println(local.metricsText().lines().first { it.startsWith("doorward_registrations_total") })

    session.logout()
    println("signed out: current = ${session.current()}")
    check(session.current() == null)
}
