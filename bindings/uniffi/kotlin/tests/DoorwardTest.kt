// The Kotlin SDK on the JVM: a full flow on SQLite, offline verification
// from JWKS, the device session over an app-implemented TokenStore, and
// the error mapping; files (FilesTest.kt), events, webhooks and the audit
// log (EventsTest.kt), mail and metrics (MailTest.kt), account
// administration and paging (AccountsTest.kt), import, export and search
// (ImportTest.kt), the account flows (FlowsTest.kt), second factors
// (MfaTest.kt), passkeys (PasskeysTest.kt), sign-in with an OpenID
// provider (OAuthTest.kt), the API against tests/api.json
// (ParityTest.kt) and the shared corpora of tests/vectors (VectorsTest.kt)
// run from the same main. Run by scripts/kotlin (and so by
// scripts/test).

import doorward.*
import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking

const val PASSWORD = "correct horse battery staple"
const val SECRET = "kotlin-test-secret-of-at-least-32-bytes"

val keys: Path = Path.of(System.getProperty("doorward.keys") ?: "tests/keys")

/** Thrown by a test whose service is not reachable (see `s3Bucket`). */
class Skipped(reason: String) : Exception(reason)

fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

fun <T> eq(actual: T, expected: T, what: String) =
    check(actual == expected) { "$what: expected <$expected>, got <$actual>" }

/** The tokens of a login that needed no second factor. */
fun LoginResult.expectTokens(): TokenPair = when (this) {
    is LoginResult.Tokens -> tokens
    is LoginResult.MfaRequired -> throw AssertionError("expected tokens, got $this")
}

/** The challenge of a login that needs a second factor. */
fun LoginResult.expectChallenge(): MfaChallenge = when (this) {
    is LoginResult.MfaRequired -> challenge
    is LoginResult.Tokens -> throw AssertionError("expected a second-factor challenge, got $this")
}

/** The user of a device login that needed no second factor. */
fun DeviceLogin.expectSignedIn(): Principal = when (this) {
    is DeviceLogin.SignedIn -> principal
    is DeviceLogin.MfaRequired -> throw AssertionError("expected a signed-in user, got $this")
}

/** The exception `block` throws, which must be a `T`. */
suspend inline fun <reified T : DoorwardException> throws(block: () -> Unit): T {
    try {
        block()
    } catch (e: DoorwardException) {
        check(e is T) { "expected ${T::class.simpleName}, got $e (${e.code()})" }
        return e as T
    }
    throw AssertionError("expected ${T::class.simpleName}, nothing was thrown")
}

fun sqliteConfig(extra: (Config) -> Config = { it }): Config {
    val dir = Files.createTempDirectory("doorward-kotlin")
    return extra(
        Config(
            databaseUrl = "sqlite://${dir.resolve("app.db")}",
            jwtSecret = SECRET,
            argon2MemoryKib = 64u,
            argon2Iterations = 1u,
        ),
    )
}

fun asymmetric(alg: String, private: String, public: String) = Config(
    databaseUrl = "memory://",
    jwtAlgorithm = alg,
    jwtPrivateKey = keys.resolve(private).toString(),
    jwtPublicKey = keys.resolve(public).toString(),
    argon2MemoryKib = 64u,
    argon2Iterations = 1u,
)

/** The app's secure storage, here a field (a Keystore on Android). */
class Vault : TokenStore {
    var pair: TokenPair? = null
    var saves = 0
    override fun load(): TokenPair? = pair
    override fun save(pair: TokenPair) {
        saves++
        this.pair = pair
    }
    override fun clear() {
        pair = null
    }
}

val tests: List<Pair<String, suspend () -> Unit>> = listOf(
    "full flow on SQLite" to {
        val dw = Doorward.open(sqliteConfig())
        eq(dw.backend(), "sqlite", "backend")
        val reg = dw.registerUser("john", "john@example.com", PASSWORD, ClientInfo(ip = "10.0.0.1", userAgent = "kotlin"))
        eq(reg.user.username, "john", "username")
        check(reg.user.createdAt.isBefore(Instant.now().plusSeconds(1))) { "createdAt is an Instant" }
        val pair = dw.login("john", PASSWORD).expectTokens()
        val principal = dw.verifyToken(pair.accessToken())
        eq(principal.userId, reg.user.id, "principal")
        eq(principal.roles, listOf("user"), "roles")
        check(dw.sessions().list(reg.user.id).any { it.ip == "10.0.0.1" }) { "client info kept" }

        // RBAC
        check(dw.can(principal.userId, "users:read")) { "users can read" }
        check(!dw.can(principal.userId, "users:write")) { "users cannot write" }
        throws<DoorwardException.Forbidden> { dw.require(principal.userId, "users:write") }
        check(dw.roles().grant(reg.user.id, "moderator")) { "grant" }
        dw.require(principal.userId, "users:write")
        eq(dw.roles().ofUser(reg.user.id), listOf("moderator", "user"), "roles of user")

        // Refresh rotates; a replay revokes the whole family.
        val next = dw.refreshToken(pair.refreshToken())
        dw.verifyToken(next.accessToken())
        throws<DoorwardException.TokenReused> { dw.refreshToken(pair.refreshToken()) }
        throws<DoorwardException.TokenRevoked> { dw.verifyToken(next.accessToken()) }

        // Logout ends that session only.
        dw.logout(reg.tokens.accessToken())
        throws<DoorwardException.TokenRevoked> { dw.verifyToken(reg.tokens.accessToken()) }

        // Paging, updates, disabling.
        for (i in 1..3) dw.users().create("user$i", "user$i@example.com", PASSWORD)
        val first = dw.users().list(limit = 2u)
        eq(first.items.size, 2, "first page")
        val rest = dw.users().list(cursor = first.nextCursor, limit = 10u)
        eq(rest.items.size, 2, "second page")
        eq(dw.users().update(reg.user.id, email = "john@example.org").email, "john@example.org", "update")
        dw.users().disable(reg.user.id)
        throws<DoorwardException.UserDisabled> { dw.login("john", PASSWORD) }
        dw.users().enable(reg.user.id)
        dw.login("john", PASSWORD).expectTokens()
    },

    "verifyTokenSync and canSync answer from memory, or throw WouldBlock" to {
        val dw = Doorward.open(sqliteConfig { it.copy(sessionCacheTtl = 30uL) })
        val reg = dw.registerUser("ann", "ann@example.com", PASSWORD)
        val token = reg.tokens.accessToken()
        eq(throws<DoorwardException.WouldBlock> { dw.verifyTokenSync(token) }.code(), "would_block", "code")
        dw.verifyToken(token)
        eq(dw.verifyTokenSync(token).userId, reg.user.id, "from memory")
        throws<DoorwardException.TokenInvalid> { dw.verifyTokenSync("not.a.token") }
        throws<DoorwardException.WouldBlock> { dw.canSync(reg.user.id, "users:read") }
        check(dw.can(reg.user.id, "users:read")) { "users can read" }
        check(dw.canSync(reg.user.id, "users:read")) { "cached: users can read" }
        check(!dw.canSync(reg.user.id, "users:write")) { "cached: users cannot write" }
        dw.logout(token)
        throws<DoorwardException.WouldBlock> { dw.verifyTokenSync(token) }
        throws<DoorwardException.TokenRevoked> { dw.verifyToken(token) }
    },

    "the error mapping carries the stable codes" to {
        val dw = Doorward.open(sqliteConfig { it.copy(lockoutThreshold = 2u, rateLimitLoginAccount = "off") })
        dw.registerUser("ann", "ann@example.com", PASSWORD)
        eq(throws<DoorwardException.DuplicateEmail> { dw.registerUser("ann2", "ANN@example.com", PASSWORD) }.code(), "duplicate_email", "code")
        eq(throws<DoorwardException.DuplicateUsername> { dw.registerUser("Ann", "other@example.com", PASSWORD) }.code(), "duplicate_username", "code")
        eq(throws<DoorwardException.InvalidCredentials> { dw.login("nobody", PASSWORD) }.code(), "invalid_credentials", "code")
        val bad = throws<DoorwardException.Validation> { dw.registerUser("bob", "not-an-email", PASSWORD) }
        eq(bad.field, "email", "field")
        eq(bad.code(), "validation_error", "code")
        eq(throws<DoorwardException.Validation> { dw.users().list(limit = 0u) }.field, "limit", "field")
        throws<DoorwardException.NotFound> { dw.users().get("01234567-89ab-7def-8123-456789abcdef") }
        throws<DoorwardException.TokenInvalid> { dw.verifyToken("not.a.token") }
        repeat(2) { throws<DoorwardException.InvalidCredentials> { dw.login("ann", "wrong password here") } }
        val locked = throws<DoorwardException.AccountLocked> { dw.login("ann", PASSWORD) }
        check(locked.retryAfterMs > 0u) { "retryAfterMs" }
        dw.limits().limit("k", "1/1m")
        val limited = throws<DoorwardException.RateLimited> { dw.limits().limit("k", "1/1m") }
        check(limited.retryAfterMs > 0u) { "retryAfterMs" }
        eq(throws<DoorwardException.Config> { Doorward.open(Config(databaseUrl = "mysql://x")) }.code(), "config_error", "code")
        eq(throws<DoorwardException.Internal> { panicForTests("boom") }.code(), "internal", "panic")
        dw.users().getByUsername("ann") // still working after the panic
        val codes = errorCodes()
        eq(codes.size, 24, "codes")
        check("token_reused" in codes) { "token_reused listed" }
        for (code in listOf("flow_invalid", "flow_expired", "email_not_verified", "step_up_required", "oauth_state_invalid", "oauth_provider_error", "account_exists")) check(code in codes) { "$code listed" }
    },

    "an error's HTTP answer is the core's" to {
        val dw = Doorward.open(sqliteConfig { it.copy(rateLimitLoginAccount = "off") })
        val refused = throws<DoorwardException.TokenInvalid> { dw.verifyToken("not.a.token") }.httpResponse(false)
        eq(refused.status, 401.toUShort(), "status")
        eq(refused.headers, mapOf("WWW-Authenticate" to "Bearer error=\"invalid_token\""), "challenge")
        check(refused.body.startsWith("{\"error\":{\"code\":\"token_invalid\",")) { refused.body }
        eq(DoorwardException.TokenInvalid("a bearer access token is required").httpResponse(missingToken = true).headers["WWW-Authenticate"], "Bearer", "no token sent")
        val invalid = throws<DoorwardException.Validation> { dw.users().list(limit = 0u) }.httpResponse(false)
        eq(invalid.status, 422.toUShort(), "validation status")
        check(invalid.body.endsWith(",\"field\":\"limit\"}}")) { invalid.body }
        eq(DoorwardException.RateLimited(1200u, "slow down").httpResponse(false).headers, mapOf("Retry-After" to "2"), "Retry-After")
        val hidden = DoorwardException.Storage("could not connect to db.internal:5432").httpResponse(false)
        eq(hidden.status, 503.toUShort(), "storage status")
        eq(hidden.body, "{\"error\":{\"code\":\"storage_error\",\"message\":\"the server could not complete the request\",\"field\":null}}", "5xx body")
    },

    "tokens verify offline from the JWKS document (EdDSA and RS256)" to {
        for ((alg, key) in listOf("EdDSA" to "ed25519", "RS256" to "rsa")) {
            val server = Doorward.open(asymmetric(alg, "$key.pem", "$key.pub.pem"))
            val reg = server.registerUser("ann", "ann@example.com", PASSWORD)
            val verifier = TokenVerifier(server.jwks())
            val offline = verifier.verify(reg.tokens.accessToken())
            eq(offline, server.verifyToken(reg.tokens.accessToken()), "$alg principal")
            check(verifier.can(offline, "users:read")) { "$alg can read" }
            check(!verifier.can(offline, "users:write")) { "$alg cannot write" }
            throws<DoorwardException.Forbidden> { verifier.require(offline, "users:write") }
            throws<DoorwardException.TokenInvalid> { verifier.verify(reg.tokens.accessToken().dropLast(2) + "xx") }
            throws<DoorwardException.TokenInvalid> { TokenVerifier(server.jwks(), audience = "elsewhere").verify(reg.tokens.accessToken()) }
            // Roles the device learns from the server.
            server.roles().create("editor", listOf("posts:*"))
            server.roles().grant(reg.user.id, "editor")
            val editor = verifier.verify(server.issueTokens(reg.user.id).accessToken())
            check(!verifier.can(editor, "posts:write")) { "unknown role grants nothing" }
            verifier.setRoles(server.roles().list())
            check(verifier.can(editor, "posts:write")) { "role table applied" }
        }
        // Rotation: a new key set, pushed by the host.
        val old = Doorward.open(asymmetric("EdDSA", "ed25519.pem", "ed25519.pub.pem"))
        val new = Doorward.open(asymmetric("EdDSA", "ed25519-other.pem", "ed25519-other.pub.pem"))
        val verifier = TokenVerifier(old.jwks())
        val fresh = new.registerUser("bob", "bob@example.com", PASSWORD).tokens.accessToken()
        throws<DoorwardException.TokenInvalid> { verifier.verify(fresh) }
        verifier.updateJwks(new.jwks())
        eq(verifier.verify(fresh).username, "bob", "after rotation")
        // An HS256 server publishes no key: nothing to verify with offline.
        val hs256 = Doorward.open(sqliteConfig())
        throws<DoorwardException.Config> { TokenVerifier(hs256.jwks()) }
    },

    "the device session keeps its tokens in the app's store" to {
        val dw = Doorward.open(sqliteConfig())
        dw.users().create("ann", "ann@example.com", PASSWORD)
        val vault = Vault()
        val session = DeviceSession(dw, vault)
        check(session.current() == null) { "nobody signed in" }
        val ann = session.login("ann", PASSWORD).expectSignedIn()
        check(vault.pair != null && vault.saves == 1) { "saved to the vault" }
        check(!vault.pair.toString().contains(vault.pair!!.accessToken())) { "toString hides the token" }
        eq(session.current()?.userId, ann.userId, "current")
        val token = session.accessToken()!!
        eq(dw.verifyToken(token).userId, ann.userId, "access token")
        dw.sessions().revoke(ann.sessionId)
        check(session.current() == null) { "revoked elsewhere" }
        check(vault.pair == null) { "forgotten" }
        session.login("ann", PASSWORD).expectSignedIn()
        session.logout()
        check(vault.pair == null) { "logout clears" }
        // A pair read back from storage.
        val restored = TokenPair(accessToken = "a", refreshToken = "b", expiresIn = 900u)
        eq(restored.tokenType(), "Bearer", "default token type")
    },

    "concurrent suspend calls" to {
        val dw = Doorward.open(sqliteConfig())
        runBlocking {
            (1..8).map { i -> async { dw.users().create("load$i", "load$i@example.com", PASSWORD) } }.awaitAll()
        }
        eq(dw.users().list().items.size, 8, "all created")
    },
)

fun main() = runBlocking {
    var failed = 0
    var skipped = 0
    val all = tests + accountsTests + importTests + flowsTests + mfaTests + passkeysTests + oauthTests + filesTests + eventsTests + mailTests + parityTests + vectorsTests
    for ((name, test) in all) {
        try {
            test()
            println("ok      $name")
        } catch (e: Skipped) {
            skipped++
            println("skipped $name: ${e.message}")
        } catch (e: Throwable) {
            failed++
            println("FAILED  $name: $e")
            e.printStackTrace()
        }
    }
    println("\n${all.size - failed - skipped} passed, $failed failed, $skipped skipped")
    if (failed > 0) kotlin.system.exitProcess(1)
}
