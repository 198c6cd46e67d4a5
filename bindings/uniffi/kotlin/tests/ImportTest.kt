// Accounts in bulk from Kotlin: importing rows whose passwords are another
// system's hashes (Django's PBKDF2 made here with javax.crypto, a bcrypt
// vector), upgraded to argon2id at the first login; hostile costs, refused
// rows by index, dry runs and atomic imports; exporting into a second
// doorward; searching; and rows that never print a password or a hash.

import doorward.*
import java.security.SecureRandom
import java.time.Instant
import java.time.temporal.ChronoUnit
import java.util.Base64
import javax.crypto.SecretKeyFactory
import javax.crypto.spec.PBEKeySpec

/** "correct horse battery staple" with cost 4, made by Python's bcrypt. */
const val BCRYPT_VECTOR = "\$2b\$04\$k9ZjAYBBMvfJb7dgSVm28.NvLGnpgYSwrgT725t6elraRmTzCVvNS"

/** Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 key>`, as its hasher writes it. */
fun djangoPbkdf2(password: String, iterations: Int = 1000): String {
    val alphabet = ('a'..'z') + ('A'..'Z') + ('0'..'9')
    val random = SecureRandom()
    val salt = String(CharArray(22) { alphabet[random.nextInt(alphabet.size)] })
    val spec = PBEKeySpec(password.toCharArray(), salt.toByteArray(), iterations, 256)
    val key = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).encoded
    return "pbkdf2_sha256\$$iterations\$$salt\$${Base64.getEncoder().encodeToString(key)}"
}

fun importConfig(extra: (Config) -> Config = { it }) = memoryConfig { extra(it.copy(rateLimitLoginAccount = "off")) }

/** The stored hash of `email`'s account, as an export with hashes shows it. */
suspend fun storedHash(dw: Doorward, email: String): String? =
    dw.users().exportUsers(withHashes = true).items.single { it.email == email }.passwordHash

val importTests: List<Pair<String, suspend () -> Unit>> = listOf(
    "importUsers keeps a Django PBKDF2 or bcrypt hash until a login upgrades it to argon2id" to {
        val dw = Doorward.open(importConfig())
        val django = djangoPbkdf2(PASSWORD)
        val report = dw.users().importUsers(
            listOf(
                UserRow(email = "ann@example.com", passwordHash = django),
                UserRow(email = "bob@example.com", username = "bobby", passwordHash = BCRYPT_VECTOR, emailVerified = true),
                UserRow(email = "cyd@example.com", password = PASSWORD),
            ),
        )
        eq(report.dryRun, false, "dryRun")
        eq(report.total, 3uL, "total")
        eq(report.failed, emptyList<ImportFailure>(), "failed")
        eq(report.created.map { it.index to it.username }, listOf(0uL to "ann", 1uL to "bobby", 2uL to "cyd"), "created")
        eq(dw.users().get(report.created[0].id).email, "ann@example.com", "created id")
        check(dw.users().getByUsername("bobby").emailVerifiedAt != null) { "emailVerified kept" }
        eq(storedHash(dw, "ann@example.com"), django, "kept as it is until a login")
        eq(storedHash(dw, "bob@example.com"), BCRYPT_VECTOR, "kept as it is until a login")
        check(storedHash(dw, "cyd@example.com")!!.startsWith("\$argon2id\$")) { "a clear password is hashed with argon2id" }
        check(dw.users().exportUsers().items.all { it.passwordHash == null && it.password == null }) { "no hash unless asked" }

        for ((login, email) in listOf("ann" to "ann@example.com", "bobby" to "bob@example.com")) {
            throws<DoorwardException.InvalidCredentials> { dw.login(login, "not the password at all") }
            eq(storedHash(dw, email)!!.startsWith("\$argon2id\$"), false, "$login: a refused login changes nothing")
            val pair = dw.login(login, PASSWORD).expectTokens()
            eq(dw.verifyToken(pair.accessToken()).username, login, "$login logged in")
            check(storedHash(dw, email)!!.startsWith("\$argon2id\$")) { "$login: upgraded to argon2id" }
            dw.login(login, PASSWORD).expectTokens()
            throws<DoorwardException.InvalidCredentials> { dw.login(login, "not the password at all") }
        }
    },

    "a hostile cost is refused at import, the hash never echoed" to {
        val dw = Doorward.open(importConfig())
        val hostile = listOf(
            "\$2b\$31\$" + BCRYPT_VECTOR.substring(7),
            "pbkdf2_sha256\$4000000000\$salt\$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        val report = dw.users().importUsers(hostile.mapIndexed { i, hash -> UserRow(email = "u$i@example.com", passwordHash = hash) })
        eq(report.created, emptyList<ImportedUser>(), "created")
        eq(report.failed.map { Triple(it.index, it.code, it.field) }, listOf(0uL, 1uL).map { Triple(it, "validation_error", "password_hash") }, "failed")
        for (failure in report.failed) {
            for (hash in hostile) check(!failure.message.contains(hash.substring(8))) { "no hash in '${failure.message}'" }
        }
        eq(dw.users().count(), 0uL, "nothing written")
    },

    "a partial import reports refused rows by index; dryRun and atomic write nothing" to {
        val dw = Doorward.open(importConfig())
        dw.users().create("taken", "taken@example.com", PASSWORD)
        val rows = listOf(
            UserRow(email = "ann@example.com", passwordHash = BCRYPT_VECTOR),
            UserRow(email = "not an address"),
            UserRow(email = "TAKEN@example.com"),
            UserRow(email = "bob@example.com", roles = listOf("moderator", "user")),
            UserRow(email = "cyd@example.com", roles = listOf("no-such-role")),
            UserRow(email = "dan@example.com", id = "not a uuid"),
            UserRow(email = "eve@example.com", password = "short"),
        )
        val refused = listOf(
            Triple(1uL, "validation_error", "email"),
            Triple(2uL, "duplicate_email", null),
            Triple(4uL, "validation_error", "roles"),
            Triple(5uL, "validation_error", "id"),
            Triple(6uL, "validation_error", "password"),
        )

        val dry = dw.users().importUsers(rows, dryRun = true)
        eq(dry.dryRun, true, "dryRun")
        eq(dry.created.map { it.index }, listOf(0uL, 3uL), "would create")
        eq(dry.failed.map { Triple(it.index, it.code, it.field) }, refused, "dry run failures")
        eq(dw.users().count(), 1uL, "a dry run writes nothing")

        val atomic = dw.users().importUsers(rows, atomic = true)
        eq(atomic.created, emptyList<ImportedUser>(), "atomic: nothing created")
        eq(atomic.failed.map { it.index }, refused.map { it.first }, "atomic failures")
        eq(dw.users().count(), 1uL, "atomic with a bad row writes nothing")
        eq(dw.events().list().items.count { it.eventType == "UsersImported" }, 0, "no event for nothing written")

        val partial = dw.users().importUsers(rows)
        eq(partial.total, 7uL, "total")
        eq(partial.created.map { it.index to it.username }, listOf(0uL to "ann", 3uL to "bob"), "created")
        eq(partial.failed.map { Triple(it.index, it.code, it.field) }, refused, "failures")
        eq(dw.users().count(), 3uL, "the good rows are in")
        eq(dw.roles().ofUser(partial.created[1].id), listOf("moderator", "user"), "roles granted")
        eq(dw.roles().ofUser(partial.created[0].id), listOf("user"), "the default role")

        // The whole batch again: every row is refused now, by index.
        eq(dw.users().importUsers(rows.filterIndexed { i, _ -> i in listOf(0, 3) }).failed.map { it.code }, listOf("duplicate_email", "duplicate_email"), "second time")

        // One UsersImported per import that wrote, no UserRegistered for an imported account.
        val events = dw.events().list().items
        eq(events.map { it.eventType }, listOf("UserRegistered", "UsersImported", "UsersImported"), "events")
        check(events[1].payloadJson.contains("\"created\":2")) { events[1].payloadJson }
        check("UsersImported" in eventTypes()) { "UsersImported listed" }
        eq(dw.users().importUsers(emptyList()).total, 0uL, "no rows")
    },

    "UserRow's toString shows neither the password nor the hash" to {
        val django = djangoPbkdf2(PASSWORD)
        val row = UserRow(email = "ann@example.com", username = "ann", password = PASSWORD, passwordHash = django, roles = listOf("user"))
        for (text in listOf(row.toString(), UserRowPage(listOf(row), null).toString(), listOf(row).toString())) {
            check(!text.contains(PASSWORD)) { "password in '$text'" }
            check(!text.contains(django.substringAfterLast('$'))) { "hash in '$text'" }
            check(!text.contains("pbkdf2")) { "hash in '$text'" }
            check(!text.contains("ann@example.com")) { "address in '$text'" }
            check(text.contains("[redacted]")) { "marked redacted: '$text'" }
            check(text.contains("ann")) { "the username is shown: '$text'" }
        }
        // Still a data class: equality and copy see every field.
        eq(row.copy(), row, "equal")
        check(row.copy(passwordHash = BCRYPT_VECTOR) != row) { "the hash counts in equals" }
        eq(row.copy(password = null, passwordHash = null).toString().contains("[redacted]"), false, "nothing to redact")
    },

    "exportUsers feeds importUsers: a second doorward gets the same accounts" to {
        val source = Doorward.open(importConfig())
        val ann = source.users().create("ann", "ann@example.com", PASSWORD)
        val bob = source.users().create("bob", "bob@example.com", PASSWORD)
        source.users().create("cyd", "cyd@example.com", PASSWORD)
        source.roles().grant(bob.id, "moderator")
        source.users().markEmailVerified(ann.id)
        source.users().disable(bob.id)
        val rows = mutableListOf<UserRow>()
        var cursor: String? = null
        do {
            val page = source.users().exportUsers(cursor = cursor, limit = 2u, withHashes = true)
            check(page.items.size <= 2) { "page size" }
            rows += page.items
            cursor = page.nextCursor
        } while (cursor != null)
        eq(rows.map { it.username }, listOf("ann", "bob", "cyd"), "exported in creation order")
        eq(rows[1].roles, listOf("moderator", "user"), "roles exported")
        check(rows.all { it.password == null && it.passwordHash!!.startsWith("\$argon2id\$") }) { "hashes, never a password" }
        eq(rows[0].createdAt, ann.createdAt, "createdAt is an Instant")

        val target = Doorward.open(importConfig())
        val report = target.users().importUsers(rows, atomic = true)
        eq(report.failed, emptyList<ImportFailure>(), "failed")
        for (user in source.users().list().items) {
            val copy = target.users().get(user.id)
            eq(copy.username to copy.email, user.username to user.email, "same account")
            eq(copy.createdAt.truncatedTo(ChronoUnit.MILLIS), user.createdAt.truncatedTo(ChronoUnit.MILLIS), "same createdAt")
            eq(copy.disabled, user.disabled, "disabled")
            eq(copy.emailVerifiedAt != null, user.emailVerifiedAt != null, "verified")
            eq(target.roles().ofUser(user.id), source.roles().ofUser(user.id), "roles")
        }
        eq(target.verifyToken(target.login("ann", PASSWORD).expectTokens().accessToken()).userId, ann.id, "the password came along")
        throws<DoorwardException.UserDisabled> { target.login("bob", PASSWORD) }
        eq(throws<DoorwardException.Validation> { source.users().exportUsers(limit = 0u) }.field, "limit", "limit")

        // A time from Kotlin: an account from the past keeps its date.
        val then = Instant.parse("2020-02-03T04:05:06Z")
        target.users().importUsers(listOf(UserRow(email = "old@example.com", createdAt = then)))
        eq(target.users().getByEmail("old@example.com").createdAt, then, "createdAt imported")
    },

    "search finds accounts by the start of their email or username, paged" to {
        val dw = Doorward.open(importConfig())
        val ann = dw.users().create("ann", "ann@example.com", PASSWORD)
        val bob = dw.users().create("bob", "annie@example.org", PASSWORD)
        dw.users().create("cyd", "cyd@example.com", PASSWORD)
        val annabel = dw.users().create("annabel", "belle@example.net", PASSWORD)
        eq(dw.users().search("ANN").items.map { it.id }, listOf(ann.id, bob.id, annabel.id), "email or username, any case")
        eq(dw.users().search("cyd@").items.map { it.username }, listOf("cyd"), "an address's start")
        eq(dw.users().search("example").items, emptyList<User>(), "a prefix, not a substring")
        val first = dw.users().search("ann", limit = 2u)
        eq(first.items.map { it.username }, listOf("ann", "bob"), "first page")
        val rest = dw.users().search("ann", cursor = first.nextCursor, limit = 2u)
        eq(rest.items.map { it.username }, listOf("annabel"), "second page")
        eq(rest.nextCursor, null, "the end")
        eq(throws<DoorwardException.Validation> { dw.users().search("") }.field, "query", "empty query")
        eq(throws<DoorwardException.Validation> { dw.users().search("  ") }.field, "query", "blank query")
        eq(throws<DoorwardException.Validation> { dw.users().search("ann", limit = 501u) }.field, "limit", "limit")
    },
)
