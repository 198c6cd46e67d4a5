// The shared corpora of tests/vectors through the Kotlin API: every case
// must give the verdict the core recorded ("ok", "true"/"false" or a
// stable error code), exactly, as in the Rust, Python and Node suites
// (crates/doorward/tests/vectors.rs is the reference for what each corpus
// means). Every difference of every corpus is collected and reported in
// one failure, and the number of cases run is checked, so nothing is
// skipped silently.
@file:Suppress("UNCHECKED_CAST")

import doorward.*
import java.nio.file.Files

object Vectors {
    /** The corpora sit beside tests/keys, at the repository's root. */
    private val dir = keys.parent.resolve("vectors")

    fun corpus(name: String): Map<String, Any?> =
        JsonReader.parse(Files.readString(dir.resolve("$name.json"))) as Map<String, Any?>

    fun cases(doc: Map<String, Any?>): List<Map<String, Any?>> = doc["cases"] as List<Map<String, Any?>>

    fun Map<String, Any?>.text(key: String): String =
        this[key] as? String ?: throw IllegalArgumentException("$key: expected a string, got ${this[key]}")

    /**
     * What a call gave, as the corpora write it: the block's own answer,
     * or the stable code of a doorward error. Anything else thrown (a JNA
     * or JVM failure) is not a doorward verdict, so it is named as such
     * and can never equal an expected one.
     */
    suspend fun verdict(block: suspend () -> String): String = try {
        block()
    } catch (e: DoorwardException) {
        e.code()
    } catch (e: Throwable) {
        "non-doorward exception $e"
    }

    /**
     * The corpora's snake_case configuration as the typed `Config` record.
     * Only the keys the corpora use are known; any other key, or a value
     * the field's type cannot hold, throws rather than being dropped or
     * wrapped around, so it fails the run outright.
     */
    fun config(json: Map<String, Any?>): Config = json.entries.fold(Config()) { c, (key, v) ->
        fun bad(type: String): Nothing = throw IllegalArgumentException("config $key: $v is not a $type")
        fun str() = v as? String ?: bad("string")
        fun bool() = v as? Boolean ?: bad("boolean")
        fun u32() = (v as? Long)?.takeIf { it in 0..0xFFFF_FFFFL }?.toUInt() ?: bad("u32")
        fun u64() = (v as? Long)?.takeIf { it >= 0 }?.toULong() ?: bad("u64")
        fun strs() = (v as? List<*>)?.map { it as? String ?: bad("list of strings") } ?: bad("list of strings")
        when (key) {
            "database_url" -> c.copy(databaseUrl = str())
            "database_read_urls" -> c.copy(databaseReadUrls = strs())
            "redis_url" -> c.copy(redisUrl = str())
            "redis_timeout_ms" -> c.copy(redisTimeoutMs = u64())
            "redis_session_policy" -> c.copy(redisSessionPolicy = str())
            "rate_limit_login_account" -> c.copy(rateLimitLoginAccount = str())
            "rate_limit_login_ip" -> c.copy(rateLimitLoginIp = str())
            "rate_limit_register_ip" -> c.copy(rateLimitRegisterIp = str())
            "rate_limit_ipv6_prefix" -> c.copy(rateLimitIpv6Prefix = u32())
            "lockout_threshold" -> c.copy(lockoutThreshold = u32())
            "lockout_base_delay" -> c.copy(lockoutBaseDelay = u64())
            "lockout_max_delay" -> c.copy(lockoutMaxDelay = u64())
            "jwt_secret" -> c.copy(jwtSecret = str())
            "jwt_algorithm" -> c.copy(jwtAlgorithm = str())
            "jwt_private_key" -> c.copy(jwtPrivateKey = str())
            "jwt_public_key" -> c.copy(jwtPublicKey = str())
            "jwt_key_id" -> c.copy(jwtKeyId = str())
            "jwt_issuer" -> c.copy(jwtIssuer = str())
            "jwt_audience" -> c.copy(jwtAudience = str())
            "access_ttl" -> c.copy(accessTtl = u64())
            "refresh_ttl" -> c.copy(refreshTtl = u64())
            "stateless_verify" -> c.copy(statelessVerify = bool())
            "password_min_length" -> c.copy(passwordMinLength = u64())
            "argon2_memory_kib" -> c.copy(argon2MemoryKib = u32())
            "argon2_iterations" -> c.copy(argon2Iterations = u32())
            "argon2_parallelism" -> c.copy(argon2Parallelism = u32())
            "hash_concurrency" -> c.copy(hashConcurrency = u64())
            "events_dispatch" -> c.copy(eventsDispatch = bool())
            "app_url" -> c.copy(appUrl = str())
            "flow_code_digits" -> c.copy(flowCodeDigits = u32())
            "flow_key" -> c.copy(flowKey = str())
            else -> throw IllegalArgumentException("config key $key is not mapped to a Config field")
        }
    }

    /** `base_config` with `extra`'s keys over it, as a `Config`. */
    fun config(doc: Map<String, Any?>, extra: Map<String, Any?>): Config =
        config(LinkedHashMap(doc["base_config"] as Map<String, Any?>).apply { putAll(extra) })
}

val vectorsTests: List<Pair<String, suspend () -> Unit>> = with(Vectors) { listOf(
    "the shared vectors (tests/vectors) give the core's verdicts" to {
        val differences = mutableListOf<String>()
        val counts = mutableListOf<String>()
        fun compare(corpus: String, name: String, expected: String, got: String) {
            if (got != expected) differences += "$corpus/$name: expected $expected, got $got"
        }

        // Tokens: one stateless verifier per named configuration; an
        // accepted token must also name the recorded user and session.
        val tokens = corpus("tokens")
        val verifiers = (tokens["configs"] as Map<String, Map<String, Any?>>)
            .mapValues { (_, extra) -> Doorward.open(config(tokens, extra)) }
        var run = 0
        for (case in cases(tokens)) {
            val dw = verifiers.getValue(case.text("config"))
            val expected = when (val expect = case.text("expect")) {
                "ok" -> "ok (user_id ${case.text("user_id")}, session_id ${case.text("session_id")})"
                else -> expect
            }
            val got = verdict {
                val principal = dw.verifyToken(case.text("token"))
                "ok (user_id ${principal.userId}, session_id ${principal.sessionId})"
            }
            compare("tokens", case.text("name"), expected, got)
            run++
        }
        verifiers.values.forEach { it.close() }
        check(run == cases(tokens).size && run >= 40) { "tokens: $run cases run" }
        counts += "tokens $run"

        // Passwords: through an account only (the case's `login`), on a fresh
        // instance with the corpus's `config` (a signing key, to log in).
        // Kotlin has no PasswordHasher, on purpose (tests/api.json: apps do
        // not hash passwords on a device), so the corpus's `expect`, the
        // hasher's verdict, is the Python and Node suites' to check.
        val passwords = corpus("passwords")
        run = 0
        for (case in cases(passwords)) {
            val got = verdict {
                Doorward.open(config(passwords, passwords["config"] as Map<String, Any?>)).use { dw ->
                    val row = UserRow(email = "vector@example.com", username = "vector", passwordHash = case.text("hash"))
                    val report = dw.users().importUsers(listOf(row))
                    report.failed.firstOrNull()?.code ?: dw.login("vector", case.text("password")).let { "ok" }
                }
            }
            compare("passwords", case.text("name"), case.text("login"), got)
            run++
        }
        check(run == cases(passwords).size && run > 0) { "passwords: $run cases run" }
        counts += "passwords $run (login only)"

        // Permissions: one instance holding the corpus's roles and users.
        val permissions = corpus("permissions")
        val rbac = Doorward.open(config(permissions, emptyMap()))
        for (role in permissions["roles"] as List<Map<String, Any?>>) {
            rbac.roles().create(role.text("name"), role["permissions"] as List<String>, "")
        }
        val ids = (permissions["users"] as List<Map<String, Any?>>).associate { user ->
            val name = user.text("username")
            val created = rbac.users().create(name, "$name@example.com", PASSWORD)
            for (role in user["roles"] as List<String>) rbac.roles().grant(created.id, role)
            name to created.id
        }
        run = 0
        for (case in cases(permissions)) {
            val got = verdict { rbac.can(ids.getValue(case.text("user")), case.text("permission")).toString() }
            compare("permissions", case.text("name"), case.text("expect"), got)
            run++
        }
        rbac.close()
        check(run == 500) { "permissions: $run cases run, expected 500" }
        counts += "permissions $run"

        // Validation: each registration on a fresh instance, so none collide,
        // with the corpus's `config` (a signing key, as registering logs in).
        val validation = corpus("validation")
        run = 0
        for (case in cases(validation)) {
            val got = verdict {
                Doorward.open(config(validation, validation["config"] as Map<String, Any?>)).use { fresh ->
                    fresh.registerUser(case.text("username"), case.text("email"), case.text("password"))
                    "ok"
                }
            }
            compare("validation", case.text("name"), case.text("expect"), got)
            run++
        }
        check(run == cases(validation).size && run > 0) { "validation: $run cases run" }
        counts += "validation $run"

        // Configuration: a case marked "typed": false (an unknown key, a
        // value of the wrong type) cannot be written in the typed Config
        // record, whose compiler refuses it first; exactly those are skipped
        // and counted. Every other case is mapped, and a mapping failure
        // fails the run.
        val configs = corpus("config")
        run = 0
        var untyped = 0
        for (case in cases(configs)) {
            if (case["typed"] == false) {
                untyped++
                continue
            }
            val typed = config(configs, case["config"] as Map<String, Any?>)
            val got = verdict { Doorward.open(typed).use { "ok" } }
            compare("config", case.text("name"), case.text("expect"), got)
            run++
        }
        check(run + untyped == cases(configs).size && run > 0) { "config: $run run, $untyped skipped" }
        counts += "config $run ($untyped skipped as untyped)"

        println("        vectors run: ${counts.joinToString(", ")}")
        check(differences.isEmpty()) {
            "${differences.size} vectors differ:\n" + differences.joinToString("\n")
        }
    },
) }
