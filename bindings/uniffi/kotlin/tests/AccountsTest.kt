// Account administration from Kotlin: changing and setting passwords,
// lifting a lockout, looking an account up by email, ending every session
// of a user, and the page rule every listing shares.

import doorward.*

const val NEW_PASSWORD = "a different horse battery staple"

val accountsTests: List<Pair<String, suspend () -> Unit>> = listOf(
    "changePassword proves the old password and ends every other session" to {
        val dw = Doorward.open(memoryConfig { it.copy(rateLimitLoginAccount = "off") })
        val reg = dw.registerUser("ann", "ann@example.com", PASSWORD)
        val mine = dw.verifyToken(reg.tokens.accessToken())
        val elsewhere = dw.login("ann", PASSWORD).expectTokens()
        throws<DoorwardException.InvalidCredentials> {
            dw.users().changePassword(reg.user.id, "not the password", NEW_PASSWORD)
        }
        eq(throws<DoorwardException.Validation> { dw.users().changePassword(reg.user.id, PASSWORD, "short") }.field, "password", "field")
        dw.login("ann", PASSWORD).expectTokens() // refused changes changed nothing

        dw.users().changePassword(reg.user.id, PASSWORD, NEW_PASSWORD, keepSession = mine.sessionId)
        eq(dw.verifyToken(reg.tokens.accessToken()).sessionId, mine.sessionId, "the kept session")
        throws<DoorwardException.TokenRevoked> { dw.verifyToken(elsewhere.accessToken()) }
        throws<DoorwardException.InvalidCredentials> { dw.login("ann", PASSWORD) }
        dw.verifyToken(dw.login("ann", NEW_PASSWORD).expectTokens().accessToken())

        // Without keepSession, every session ends, the caller's too.
        dw.users().changePassword(reg.user.id, NEW_PASSWORD, PASSWORD)
        throws<DoorwardException.TokenRevoked> { dw.verifyToken(reg.tokens.accessToken()) }
        eq(dw.sessions().list(reg.user.id), emptyList<Session>(), "sessions")
    },

    "setPassword needs no old password and ends every session" to {
        val dw = Doorward.open(memoryConfig())
        val reg = dw.registerUser("bob", "bob@example.com", PASSWORD)
        dw.users().setPassword(reg.user.id, NEW_PASSWORD)
        throws<DoorwardException.TokenRevoked> { dw.verifyToken(reg.tokens.accessToken()) }
        throws<DoorwardException.InvalidCredentials> { dw.login("bob", PASSWORD) }
        eq(dw.verifyToken(dw.login("bob", NEW_PASSWORD).expectTokens().accessToken()).userId, reg.user.id, "logged in")
        eq(throws<DoorwardException.Validation> { dw.users().setPassword(reg.user.id, "short") }.field, "password", "field")
        throws<DoorwardException.NotFound> { dw.users().setPassword("01234567-89ab-7def-8123-456789abcdef", NEW_PASSWORD) }
    },

    "unlock lifts a lockout and says whether there was one" to {
        val dw = Doorward.open(memoryConfig { it.copy(lockoutThreshold = 2u, rateLimitLoginAccount = "off") })
        val ann = dw.users().create("ann", "ann@example.com", PASSWORD)
        eq(dw.users().unlock(ann.id), false, "nothing to clear")
        repeat(2) { throws<DoorwardException.InvalidCredentials> { dw.login("ann", "wrong password here") } }
        throws<DoorwardException.AccountLocked> { dw.login("ann", PASSWORD) }
        check(dw.users().get(ann.id).lockedUntil != null) { "locked" }
        eq(dw.users().unlock(ann.id), true, "cleared")
        eq(dw.users().get(ann.id).failedLogins, 0u, "failed logins forgotten")
        dw.login("ann", PASSWORD).expectTokens()
        eq(dw.users().unlock(ann.id), false, "nothing left to clear")
    },

    "count counts every account, disabled ones too" to {
        val dw = Doorward.open(memoryConfig())
        eq(dw.users().count(), 0uL, "none yet")
        val ann = dw.users().create("ann", "ann@example.com", PASSWORD)
        dw.users().create("bob", "bob@example.com", PASSWORD)
        dw.users().disable(ann.id)
        eq(dw.users().count(), 2uL, "disabled ones too")
        dw.users().delete(ann.id)
        eq(dw.users().count(), 1uL, "deleted ones not")
    },

    "getByEmail finds an account whatever the case of the address" to {
        val dw = Doorward.open(memoryConfig())
        val ann = dw.users().create("ann", "Ann@Example.com", PASSWORD)
        dw.users().create("bob", "bob@example.com", PASSWORD)
        eq(dw.users().getByEmail("ann@example.com"), ann, "lower case")
        eq(dw.users().getByEmail("ANN@EXAMPLE.COM").id, ann.id, "upper case")
        throws<DoorwardException.NotFound> { dw.users().getByEmail("nobody@example.com") }
        dw.users().delete(ann.id)
        throws<DoorwardException.NotFound> { dw.users().getByEmail("ann@example.com") }
    },

    "revokeAll ends every session of one user and counts them" to {
        val dw = Doorward.open(memoryConfig())
        val ann = dw.registerUser("ann", "ann@example.com", PASSWORD)
        val bob = dw.registerUser("bob", "bob@example.com", PASSWORD)
        val pairs = listOf(ann.tokens, dw.login("ann", PASSWORD).expectTokens(), dw.login("ann@example.com", PASSWORD).expectTokens())
        eq(dw.sessions().list(ann.user.id).size, 3, "live sessions")
        eq(dw.sessions().revokeAll(ann.user.id), 3uL, "revoked")
        for (pair in pairs) throws<DoorwardException.TokenRevoked> { dw.verifyToken(pair.accessToken()) }
        throws<DoorwardException.TokenRevoked> { dw.refreshToken(ann.tokens.refreshToken()) }
        eq(dw.sessions().list(ann.user.id), emptyList<Session>(), "none left")
        eq(dw.sessions().revokeAll(ann.user.id), 0uL, "nothing more")
        eq(dw.verifyToken(bob.tokens.accessToken()).userId, bob.user.id, "other users keep theirs")
        dw.login("ann", PASSWORD).expectTokens() // a new login still works
    },

    "every listing takes null for the default page and refuses a limit out of range" to {
        val dw = Doorward.open(memoryConfig())
        for (i in 0..50) {
            dw.users().create("user$i", "user$i@example.com", PASSWORD)
            dw.files().put("f/${i.toString().padStart(3, '0')}", byteArrayOf(1))
        }
        val users = dw.users().list(limit = null)
        eq(users.items.size, 50, "default page")
        check(users.nextCursor != null) { "more to come" }
        eq(dw.files().list(prefix = "f").nextCursor, "f/049", "default page of files")
        eq(dw.events().list().items.size, 50, "default page of events")
        val refused = listOf<Pair<String, suspend (UInt) -> Unit>>(
            "users" to { n -> dw.users().list(limit = n) },
            "events" to { n -> dw.events().list(limit = n) },
            "deliveries" to { n -> dw.events().deliveries(limit = n) },
            "audit" to { n -> dw.audit().list(limit = n) },
            "files" to { n -> dw.files().list(limit = n) },
        )
        for ((what, list) in refused) {
            val largest = if (what == "users") 500u else 1000u
            for (n in listOf(0u, largest + 1u, UInt.MAX_VALUE)) {
                eq(throws<DoorwardException.Validation> { list(n) }.field, "limit", "$what($n)")
            }
            list(largest)
        }
    },
)
