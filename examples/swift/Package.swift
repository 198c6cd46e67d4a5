// swift-tools-version:5.9
// The doorward Swift SDK in a small command-line program. The SDK's sources
// are generated from the Rust library (Sources/DoorwardKit and
// Sources/DoorwardFFI link to target/bindings/swift): run
// `./scripts/mobile --release` from the repository root first.
import PackageDescription

let package = Package(
    name: "DoorwardExample",
    platforms: [.macOS(.v13), .iOS(.v16)],
    targets: [
        // The C interface of libdoorward_uniffi: header and module map.
        .systemLibrary(name: "DoorwardFFI", path: "Sources/DoorwardFFI"),
        // The generated Swift API over it.
        .target(
            name: "DoorwardKit",
            dependencies: ["DoorwardFFI"],
            path: "Sources/DoorwardKit",
            linkerSettings: [
                .linkedLibrary("doorward_uniffi"),
                .unsafeFlags(["-L../../target/bindings/lib"]),
            ]
        ),
        .executableTarget(name: "Example", dependencies: ["DoorwardKit"], path: "Sources/Example"),
    ]
)
