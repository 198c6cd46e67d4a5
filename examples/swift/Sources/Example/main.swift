// A local, offline store, a sign-in whose tokens live in the Keychain
// (here a stand-in), the user's avatar in the app's files, and access
// tokens verified offline from the public keys. Run from examples/swift: `swift run Example`.
import DoorwardKit
import Foundation

/// Stand-in for the Keychain (SecItemAdd / SecItemCopyMatching).
final class Keychain: TokenStore, @unchecked Sendable {
    private var saved: TokenPair?
    func load() -> TokenPair? { saved }
    func save(pair: TokenPair) { saved = pair }
    func clear() { saved = nil }
}

let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let keys = root.appendingPathComponent("tests/keys")
let data = FileManager.default.temporaryDirectory.appendingPathComponent("doorward-example-\(UUID())")
try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)

let local = try await Doorward.open(config: Config(
    databaseUrl: "sqlite://\(data.appendingPathComponent("app.db").path)",
    jwtAlgorithm: "EdDSA",
    jwtPrivateKey: keys.appendingPathComponent("ed25519.pem").path,
    jwtPublicKey: keys.appendingPathComponent("ed25519.pub.pem").path
))
print("store: \(local.backend())")

_ = try await local.users().create(username: "maria", email: "maria@example.com", password: "a long offline passphrase")
let session = DeviceSession(doorward: local, store: Keychain())
let login = try await session.login(login: "maria", password: "a long offline passphrase", client: nil)
guard case .signedIn(let me) = login else {
    // With an authenticator enrolled (local.mfa().startTotp / confirmTotp) the
    // answer is .mfaRequired(challenge): ask for the code, then
    // session.completeMfa(flowId: challenge.flowId, method: "totp", proof: code).
    fatalError("maria has no second factor yet: \(login)")
}
print("signed in as \(me.username) (level \(me.aal), \(me.amr))")

// The profile picture, stored beside the app's database and read back.
let avatar = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
let stored = try await local.files().put(key: "avatars/\(me.userId).png", data: avatar, contentType: "image/png")
print("avatar stored: \(stored.key) (\(stored.size) bytes)")
let back = try await local.files().get(key: stored.key)
precondition(back.data == avatar, "the same avatar back")

let verifier = try TokenVerifier(jwks: try local.jwks())
if let token = try await session.accessToken() {
    let principal = try verifier.verify(accessToken: token)
    print("offline verify: \(principal.username), may write users: \(try verifier.can(principal: principal, permission: "users:write"))")
}

do {
    _ = try await local.registerUser(username: "maria2", email: "MARIA@example.com", password: "a long offline passphrase", client: nil)
} catch let error as DoorwardError {
    print("as expected: \(error.code())")  // duplicate_email
}

try await session.logout()
print("signed out: \(try await session.current() == nil)")
