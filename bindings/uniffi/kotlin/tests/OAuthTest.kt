// Sign-in with an OpenID provider from Kotlin, the way an app does it: a
// public client (no client secret; PKCE, always on, protects the code)
// whose redirect URI is the app's own scheme. The provider is the test
// OpenID provider of tests/oidc (its control server makes an issuer per
// test); its login page is driven by tests/oidc/login.mjs, the scripted
// browser, which stops at the app's redirect and prints it, as a browser
// tab hands the app its callback. Covered: a sign-up with tokens and the
// identity listed, a replayed state, a cancelled sign-in, an existing
// account linked by its verified address or refused, a signed-in user
// linking and unlinking, and the last way in kept. Skipped when the
// provider is not reachable, failed instead under
// DOORWARD_REQUIRE_SERVICES=1. What needs no provider (configuration,
// printing, unknown states) runs always.

import doorward.*
import java.net.ConnectException
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.concurrent.TimeUnit

/** The app's redirect URI: its own scheme, as registered at the provider. */
const val APP_REDIRECT = "com.example.app:/oauth/callback"

/** The app's client id at the provider. */
const val APP_CLIENT = "example-app"

/** The scripted browser (tests/oidc/login.mjs). */
val loginScript = keys.parent.resolve("oidc/login.mjs")

/**
 * A fresh issuer at the test provider's control server
 * (`DOORWARD_TEST_OIDC_URL`, default the one `scripts/services` starts)
 * whose one client is the app: a public, native client (no secret, so
 * `token_endpoint_auth_method` `none`) redirecting to `APP_REDIRECT`.
 * Skipped when unreachable, failed instead under `DOORWARD_REQUIRE_SERVICES=1`.
 */
fun appIssuer(): String {
    val control = System.getenv("DOORWARD_TEST_OIDC_URL") ?: "http://127.0.0.1:9400"
    val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
    val body = """{"clients":[{"client_id":"$APP_CLIENT","application_type":"native","redirect_uris":["$APP_REDIRECT"]}]}"""
    val request = HttpRequest.newBuilder(URI("$control/issuers"))
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build()
    val made = try {
        http.send(request, HttpResponse.BodyHandlers.ofString())
    } catch (e: ConnectException) {
        if (System.getenv("DOORWARD_REQUIRE_SERVICES") == "1") throw AssertionError("the test OpenID provider is required but not reachable at $control")
        throw Skipped("the test OpenID provider is not reachable at $control")
    }
    eq(made.statusCode(), 201, "issuer created: ${made.body()}")
    @Suppress("UNCHECKED_CAST")
    return (Json(made.body()).parse() as Map<String, Any?>)["issuer"] as String
}

/** A doorward whose provider `corp` is `issuer`, with the app as its client. */
suspend fun oauthDoorward(issuer: String): Doorward = Doorward.open(
    memoryConfig {
        it.copy(
            rateLimitLoginAccount = "off",
            oauthProviders = listOf(OAuthProviderConfig(id = "corp", clientId = APP_CLIENT, issuer = issuer)),
        )
    },
)

/**
 * The user at the provider's page: logs in as `account` (or presses
 * cancel) until the provider redirects to the app; that redirect, as the
 * app receives it.
 */
fun browse(url: String, account: String, cancel: Boolean = false): String {
    val command = mutableListOf("node", loginScript.toString(), url, account, APP_REDIRECT)
    if (cancel) command += "--cancel"
    // Its errors go to the test's own output.
    val process = ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start()
    val out = process.inputStream.bufferedReader().readText().trim()
    check(process.waitFor(60, TimeUnit.SECONDS)) { "login.mjs did not finish" }
    eq(process.exitValue(), 0, "login.mjs exit status ($out)")
    check(out.startsWith("$APP_REDIRECT?")) { "login.mjs stopped elsewhere: $out" }
    return out
}

/** Start a sign-in at `corp`, log in as `account`: the callback and the state the app kept. */
suspend fun signIn(dw: Doorward, account: String): Pair<String, String> {
    val start = dw.oauth().authorizationUrl("corp", APP_REDIRECT)
    return browse(start.url, account) to start.state
}

val oauthTests: List<Pair<String, suspend () -> Unit>> = listOf(
    "oauth configuration, printing and unknown states need no provider" to {
        val provider = OAuthProviderConfig(id = "corp", clientId = "web", issuer = "https://login.example.com", clientSecret = "provider-client-secret")
        check("provider-client-secret" !in provider.toString()) { "toString shows the client secret: $provider" }
        val config = memoryConfig { it.copy(oauthProviders = listOf(provider, OAuthProviderConfig(id = "google", kind = "google", clientId = "1234.apps.googleusercontent.com"))) }
        check("provider-client-secret" !in config.toString()) { "Config.toString shows the client secret: $config" }
        val dw = Doorward.open(config)
        eq(dw.oauth().providers(), listOf(ProviderInfo("corp", "corp", "oidc"), ProviderInfo("google", "Google", "google")), "providers")
        eq(throws<DoorwardException.Validation> { dw.oauth().authorizationUrl("nope", APP_REDIRECT) }.field, "provider", "unknown provider")
        val unknown = throws<DoorwardException.OAuthStateInvalid> { dw.oauth().complete("$APP_REDIRECT?code=x&state=never-issued", null) }
        eq(unknown.code(), "oauth_state_invalid", "code")
        eq(unknown.httpResponse(false).status, 400.toUShort(), "status")
        // The core checks the providers at open.
        val noIssuer = OAuthProviderConfig(id = "corp", clientId = "web")
        check("issuer" in throws<DoorwardException.Config> { Doorward.open(memoryConfig { it.copy(oauthProviders = listOf(noIssuer)) }) }.reason) { "names the issuer" }
        check("twice" in throws<DoorwardException.Config> { Doorward.open(memoryConfig { it.copy(oauthProviders = listOf(provider, provider)) }) }.reason) { "names the twice-used id" }
        eq(Doorward.open(memoryConfig()).oauth().providers(), emptyList(), "no providers")
        // The other list of records in the config reaches the core the same way.
        Doorward.open(memoryConfig { it.copy(jwtPreviousKeys = listOf(PreviousKey("old", "HS256", secret = "an-old-secret-of-at-least-32-bytes!"))) })
        throws<DoorwardException.Config> { Doorward.open(memoryConfig { it.copy(jwtPreviousKeys = listOf(PreviousKey("old", "none"))) }) }
        // The errors' fields, as the core gives them.
        val denied = DoorwardException.OAuthProvider("corp", "access_denied", null, "corp did not sign the user in: access_denied")
        eq(denied.code(), "oauth_provider_error", "code")
        eq(DoorwardException.AccountExists("corp", "exists").httpResponse(false).status, 409.toUShort(), "account_exists status")
    },

    "an app signs a new user up with a provider, and a replayed state is refused" to {
        val dw = oauthDoorward(appIssuer())
        val start = dw.oauth().authorizationUrl("corp", APP_REDIRECT)
        check("code_challenge_method=S256" in start.url && "code_challenge=" in start.url) { "PKCE: ${start.url}" }
        check("nonce=" in start.url && "client_id=$APP_CLIENT" in start.url) { start.url }
        check("client_secret" !in start.url) { "a public client sends no secret" }
        check(start.url !in start.toString() && start.state !in start.toString()) { "toString hides url and state: $start" }
        check(start.expiresIn > 0u) { "expiresIn" }
        val callback = browse(start.url, "newcomer@example.org")
        val done = dw.oauth().complete(callback, start.state, ClientInfo(userAgent = "example-app/1.0"))
        check(done.newUser && done.linked) { "a new, linked account: $done" }
        eq(done.provider, "corp", "provider")
        val tokens = (done.login ?: throw AssertionError("no login")).expectTokens()
        // The app keeps the tokens where its device session reads them.
        val vault = Vault()
        vault.save(tokens)
        eq(DeviceSession(dw, vault).current()?.userId, done.userId, "device session")
        val me = dw.verifyToken(tokens.accessToken())
        eq(me.userId, done.userId, "signed in")
        eq(me.amr, listOf("fed"), "amr")
        eq(me.aal, 1.toUByte(), "aal")
        val user = dw.users().get(done.userId)
        eq(user.email, "newcomer@example.org", "email")
        check(user.emailVerifiedAt != null) { "the provider verified the address" }
        val identities = dw.users().identities(done.userId)
        eq(identities.map { it.provider to it.subject }, listOf("corp" to "newcomer@example.org"), "identities")
        check(identities[0].emailVerified && identities[0].email == "newcomer@example.org") { "identity address" }
        // The events: a registration, a link, a sign-in by the provider.
        val events = dw.events().list(limit = 100u).items
        for (type in listOf("UserRegistered", "IdentityLinked")) check(events.any { it.eventType == type }) { "$type in ${events.map { it.eventType }}" }
        check(events.any { it.eventType == "LoginSucceeded" && "\"oauth:corp\"" in it.payloadJson }) { "a LoginSucceeded by oauth:corp" }
        // No tokens of the provider are kept unless asked for.
        eq(dw.oauth().providerTokens(done.userId, "corp"), null, "provider tokens")
        // The same callback again: its state is spent.
        val replayed = throws<DoorwardException.OAuthStateInvalid> { dw.oauth().complete(callback, start.state) }
        eq(replayed.code(), "oauth_state_invalid", "code")
        // Another sign-in's state does not fit this callback.
        val (next, state) = signIn(dw, "newcomer@example.org")
        throws<DoorwardException.OAuthStateInvalid> { dw.oauth().complete(next, "another-browser's-state") }
        val again = dw.oauth().complete(next, state)
        check(again.userId == done.userId && !again.newUser && !again.linked) { "the same account: $again" }
        // The provider made the account: its only identity is its only way in.
        val refused = throws<DoorwardException.Validation> { dw.oauth().unlink(done.userId, "corp") }
        eq(refused.field, "provider", "field")
        eq(dw.users().identities(done.userId).size, 1, "still linked")
    },

    "a cancelled sign-in is the provider's access_denied" to {
        val dw = oauthDoorward(appIssuer())
        val start = dw.oauth().authorizationUrl("corp", APP_REDIRECT)
        val callback = browse(start.url, "cancel@example.org", cancel = true)
        check("error=access_denied" in callback) { callback }
        val err = throws<DoorwardException.OAuthProvider> { dw.oauth().complete(callback, start.state) }
        eq(err.code(), "oauth_provider_error", "code")
        eq(err.provider, "corp", "provider")
        eq(err.oauthError, "access_denied", "oauthError")
        eq(err.httpResponse(false).status, 400.toUShort(), "status")
        // The state is spent all the same, and nobody was created.
        throws<DoorwardException.OAuthStateInvalid> { dw.oauth().complete(callback, start.state) }
        eq(dw.users().count(), 0uL, "no account")
    },

    "an existing account is linked by its verified address, refused otherwise" to {
        val dw = oauthDoorward(appIssuer())
        val verified = dw.registerUser("verified", "verified@example.org", PASSWORD).user
        dw.users().markEmailVerified(verified.id)
        val (callback, state) = signIn(dw, "verified@example.org")
        val done = dw.oauth().complete(callback, state)
        eq(done.userId, verified.id, "the same account")
        check(done.linked && !done.newUser) { "linked: $done" }
        // The account never proved its address: no link by address.
        dw.registerUser("plain", "plain@example.org", PASSWORD)
        val (other, otherState) = signIn(dw, "plain@example.org")
        val exists = throws<DoorwardException.AccountExists> { dw.oauth().complete(other, otherState) }
        eq(exists.code(), "account_exists", "code")
        eq(exists.provider, "corp", "provider")
        eq(exists.httpResponse(false).status, 409.toUShort(), "status")
    },

    "a signed-in user links a provider and unlinks it" to {
        val dw = oauthDoorward(appIssuer())
        val reg = dw.registerUser("linker", "linker@example.com", PASSWORD)
        val start = dw.oauth().link(reg.user.id, "corp", APP_REDIRECT)
        val done = dw.oauth().complete(browse(start.url, "elsewhere@example.org"), start.state)
        check(done.linked && done.login == null && done.userId == reg.user.id) { "linked, nobody signed in: $done" }
        eq(dw.users().identities(reg.user.id).map { it.subject }, listOf("elsewhere@example.org"), "identities")
        // It signs that account in now.
        val (callback, state) = signIn(dw, "elsewhere@example.org")
        eq(dw.oauth().complete(callback, state).userId, reg.user.id, "signs in")
        // Another account cannot take it.
        val other = dw.registerUser("other", "other@example.com", PASSWORD)
        val taken = dw.oauth().link(other.user.id, "corp", APP_REDIRECT)
        throws<DoorwardException.AccountExists> { dw.oauth().complete(browse(taken.url, "elsewhere@example.org"), taken.state) }
        // Unlinked (the account keeps its password), then nothing to unlink.
        dw.oauth().unlink(reg.user.id, "corp")
        eq(dw.users().identities(reg.user.id), emptyList(), "unlinked")
        throws<DoorwardException.NotFound> { dw.oauth().unlink(reg.user.id, "corp") }
        val unlinked = dw.events().list(limit = 100u).items.filter { it.eventType == "IdentityUnlinked" }
        check(unlinked.size == 1 && "\"corp\"" in unlinked[0].payloadJson) { "an IdentityUnlinked of corp: $unlinked" }
        dw.login("linker", PASSWORD).expectTokens()
    },
)
