// Files from Kotlin: a round trip on memory://, paths, listing, keys and
// presigning refused with their codes, and presigned URLs on the S3 test
// server when it is reachable.

import doorward.*
import java.net.ConnectException
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files as Fs
import java.util.UUID

/**
 * The S3-compatible test server (`DOORWARD_TEST_S3_ENDPOINT`, default the
 * moto_server `scripts/services` starts) with a fresh bucket, made by an
 * unsigned `PUT /bucket` as moto allows: `(endpoint, bucket)`. Skipped when
 * unreachable, failed instead under `DOORWARD_REQUIRE_SERVICES=1`.
 */
fun s3Bucket(http: HttpClient): Pair<String, String> {
    val endpoint = System.getenv("DOORWARD_TEST_S3_ENDPOINT") ?: "http://127.0.0.1:9000"
    val bucket = "dw-kt-${UUID.randomUUID().toString().replace("-", "")}"
    val made = try {
        http.send(HttpRequest.newBuilder(URI("$endpoint/$bucket")).PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString())
    } catch (e: ConnectException) {
        if (System.getenv("DOORWARD_REQUIRE_SERVICES") == "1") throw AssertionError("an S3-compatible server is required but not reachable at $endpoint")
        throw Skipped("an S3-compatible server is not reachable at $endpoint")
    }
    eq(made.statusCode(), 200, "bucket created: ${made.body()}")
    return endpoint to bucket
}

fun memoryConfig(extra: (Config) -> Config = { it }) = extra(
    Config(
        databaseUrl = "memory://",
        filesUrl = "memory://",
        jwtSecret = SECRET,
        argon2MemoryKib = 64u,
        argon2Iterations = 1u,
    ),
)

val filesTests: List<Pair<String, suspend () -> Unit>> = listOf(
    "files round trip on memory://" to {
        val files = Doorward.open(memoryConfig()).files()
        val png = byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte(), 0, 1, 2, 0xff.toByte())
        val put = files.put("avatars/42.png", png, "image/png")
        eq(put.key, "avatars/42.png", "key")
        eq(put.size, png.size.toULong(), "size")
        eq(put.contentType, "image/png", "content type")
        val got = files.get("avatars/42.png")
        check(got.data.contentEquals(png)) { "the same bytes back" }
        eq(got.info, files.head("avatars/42.png"), "head is get without the bytes")
        eq(got, files.get("avatars/42.png"), "equal by content")
        eq(got.hashCode(), files.get("avatars/42.png").hashCode(), "hashed by content")

        // Overwrite without a content type: none is guessed.
        eq(files.put("avatars/42.png", byteArrayOf(1)).contentType, null, "no content type")
        eq(files.get("avatars/42.png").data.toList(), listOf<Byte>(1), "overwritten")

        // Listing pages in key order, by whole segments.
        for (key in listOf("a/1", "a/2", "a/3", "ab/1")) files.put(key, key.toByteArray())
        val first = files.list(prefix = "a", limit = 2u)
        eq(first.items.map { it.key }, listOf("a/1", "a/2"), "first page")
        val rest = files.list(prefix = "a", cursor = first.nextCursor, limit = 2u)
        eq(rest.items.map { it.key }, listOf("a/3"), "second page")
        eq(rest.nextCursor, null, "last page")
        eq(files.list().items.size, 5, "everything")

        check(files.delete("a/1")) { "deleted" }
        check(!files.delete("a/1")) { "nothing left to delete" }
        throws<DoorwardException.NotFound> { files.get("a/1") }
        throws<DoorwardException.NotFound> { files.head("a/1") }
    },

    "files from and to a path" to {
        val dir = Fs.createTempDirectory("doorward-files")
        val files = Doorward.open(sqliteConfig { it.copy(filesUrl = "file://$dir/store") }).files()
        val upload = dir.resolve("photo.jpg")
        val body = ByteArray(300_000) { (it % 251).toByte() }
        Fs.write(upload, body)
        val info = files.putFile("photos/1.jpg", upload.toString(), "image/jpeg")
        eq(info.size, body.size.toULong(), "size")
        eq(files.head("photos/1.jpg").contentType, "image/jpeg", "content type kept on file://")
        val download = dir.resolve("copy.jpg")
        eq(files.getToFile("photos/1.jpg", download.toString()).size, info.size, "downloaded")
        check(Fs.readAllBytes(download).contentEquals(body)) { "the same file back" }
        eq(throws<DoorwardException.Validation> { files.putFile("x", dir.resolve("missing").toString()) }.field, "path", "field")
    },

    "bad keys, sizes and presigning have their codes" to {
        val files = Doorward.open(memoryConfig { it.copy(filesMaxBytes = 16u) }).files()
        for (key in listOf("../escape", "/absolute", "", "a//b", ".doorward/x")) {
            val bad = throws<DoorwardException.Validation> { files.put(key, byteArrayOf(1)) }
            eq(bad.field, "key", "field for '$key'")
            eq(bad.code(), "validation_error", "code for '$key'")
        }
        eq(throws<DoorwardException.Validation> { files.put("big", ByteArray(17)) }.field, "data", "over files_max_bytes")
        eq(throws<DoorwardException.Validation> { files.put("a", byteArrayOf(1), "bad\ntype") }.field, "content_type", "field")
        eq(throws<DoorwardException.Validation> { files.list(limit = 0u) }.field, "limit", "field")
        eq(throws<DoorwardException.Validation> { files.presignGet("a", 0u) }.field, "expires_in", "field")
        // Presigned URLs need S3: the configuration is what would change.
        eq(throws<DoorwardException.Config> { files.presignGet("a", 60u) }.code(), "config_error", "presign get")
        eq(throws<DoorwardException.Config> { files.presignPut("a", 60u) }.code(), "config_error", "presign put")
        eq(throws<DoorwardException.Config> { Doorward.open(memoryConfig { it.copy(filesUrl = "ftp://x") }) }.code(), "config_error", "files_url")
    },

    "files on S3: presigned download and upload" to {
        val http = HttpClient.newHttpClient()
        val (endpoint, bucket) = s3Bucket(http)
        val config = memoryConfig {
            it.copy(
                filesUrl = "s3://$bucket",
                filesS3Endpoint = endpoint,
                filesS3Region = "us-east-1",
                filesS3AccessKeyId = "test-access-key",
                filesS3SecretAccessKey = "test-secret-key",
                filesS3AllowHttp = true,
            )
        }
        check(!config.toString().contains("test-secret-key") && !config.toString().contains(SECRET)) { "toString hides secrets: $config" }
        val files = Doorward.open(config).files()
        val avatar = ByteArray(1000) { it.toByte() }
        files.put("avatars/1.png", avatar, "image/png")
        val download = http.send(HttpRequest.newBuilder(URI(files.presignGet("avatars/1.png", 60u))).GET().build(), HttpResponse.BodyHandlers.ofByteArray())
        eq(download.statusCode(), 200, "presigned GET")
        check(download.body().contentEquals(avatar)) { "presigned GET returns the bytes" }
        val upload = ByteArray(500) { 7 }
        val put = http.send(HttpRequest.newBuilder(URI(files.presignPut("uploads/2.bin", 60u))).PUT(HttpRequest.BodyPublishers.ofByteArray(upload)).build(), HttpResponse.BodyHandlers.discarding())
        eq(put.statusCode(), 200, "presigned PUT")
        check(files.get("uploads/2.bin").data.contentEquals(upload)) { "uploaded through the URL" }
        eq(files.list().items.map { it.key }, listOf("avatars/1.png", "uploads/2.bin"), "listed")
    },
)
