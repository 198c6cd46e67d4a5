// The generated Kotlin API against tests/api.json, the manifest of public
// operations that every language's suite checks its own surface with (its
// `about` says how). Names are the manifest's in camelCase, read by
// reflection: a class must have every operation the manifest gives Kotlin,
// and its generated interface (`UsersInterface`, ...) nothing else. Swift
// is generated from the same library, so it has what Kotlin has.

import doorward.*

/** Just enough JSON for the manifest: objects, arrays, strings, literals. */
class Json(private val text: String) {
    private var at = 0

    fun parse(): Any? = value().also { space(); check(at == text.length) { "JSON: trailing text at $at" } }

    private fun space() {
        while (at < text.length && text[at].isWhitespace()) at++
    }

    private fun value(): Any? {
        space()
        return when (text[at]) {
            '{' -> obj()
            '[' -> list()
            '"' -> string()
            't' -> word("true", true)
            'f' -> word("false", false)
            'n' -> word("null", null)
            else -> number()
        }
    }

    private fun word(word: String, value: Any?): Any? {
        check(text.startsWith(word, at)) { "JSON: unexpected text at $at" }
        at += word.length
        return value
    }

    private fun number(): Double {
        val start = at
        while (at < text.length && (text[at].isDigit() || text[at] in "+-.eE")) at++
        return text.substring(start, at).toDouble()
    }

    private fun string(): String {
        val out = StringBuilder()
        at++
        while (text[at] != '"') {
            if (text[at] == '\\') {
                at++
                when (val escaped = text[at]) {
                    'n' -> out.append('\n')
                    't' -> out.append('\t')
                    'u' -> out.append(text.substring(at + 1, at + 5).toInt(16).toChar()).also { at += 4 }
                    else -> out.append(escaped)
                }
            } else {
                out.append(text[at])
            }
            at++
        }
        at++
        return out.toString()
    }

    private fun list(): List<Any?> {
        val out = mutableListOf<Any?>()
        at++
        space()
        if (text[at] == ']') return out.also { at++ }
        while (true) {
            out += value()
            space()
            if (text[at++] == ']') return out
        }
    }

    private fun obj(): Map<String, Any?> {
        val out = linkedMapOf<String, Any?>()
        at++
        space()
        if (text[at] == '}') return out.also { at++ }
        while (true) {
            space()
            val key = string()
            space()
            check(text[at++] == ':') { "JSON: ':' expected at $at" }
            out[key] = value()
            space()
            if (text[at++] == '}') return out
        }
    }
}

/** tests/api.json, and what it gives Kotlin. */
object ApiManifest {
    @Suppress("UNCHECKED_CAST")
    private val manifest = Json(keys.parent.resolve("api.json").toFile().readText()).parse() as Map<String, Any?>

    @Suppress("UNCHECKED_CAST")
    val apis = manifest["apis"] as Map<String, Map<String, Any?>>

    @Suppress("UNCHECKED_CAST")
    private val differences = manifest["differences"] as List<Map<String, Any?>>

    fun camel(name: String) =
        name.split('_').mapIndexed { i, part -> if (i == 0) part else part.replaceFirstChar { it.uppercase() } }.joinToString("")

    fun pascal(name: String) = camel(name).replaceFirstChar { it.uppercase() }

    /** Whether Kotlin has `operation` of `api` (or `api` itself). */
    fun inKotlin(api: String, operation: String? = null) = differences.all { d ->
        val applies = d["api"] == api && (d["operation"] == null || d["operation"] == operation)
        !applies || "kotlin" in (d["in"] as List<*>)
    }

    /**
     * The Kotlin names of `api`: its operations Kotlin has, and on the root
     * its sub-API accessors. Constructors are checked apart.
     */
    fun expected(api: String): Set<String> {
        val spec = apis.getValue(api)
        val names = (spec["operations"] as List<*>).map { it as String }.filter { inKotlin(api, it) }.toMutableSet()
        if (spec["reached"] == "root") {
            names += apis.filter { (name, sub) -> sub["reached"] == "accessor" && inKotlin(name) }.keys
        }
        return names.map(::camel).toSet()
    }

    /** A method's Kotlin name: the JVM name of one taking an unsigned
     * (inline class) argument carries a `-hash` suffix. */
    private fun jvmName(method: java.lang.reflect.Method) = method.name.substringBefore('-')

    /** Fails unless `cls` has exactly the operations the manifest gives Kotlin for `api`. */
    fun compare(label: String, api: String, cls: Class<*>) {
        val want = expected(api)
        val present = cls.methods.map { jvmName(it) }.toSet()
        val missing = want - present
        check(missing.isEmpty()) {
            "$label lacks $missing: tests/api.json lists them for Kotlin (add them to bindings/uniffi, or a difference with its reason)"
        }
        val declared = Class.forName("doorward.${cls.simpleName}Interface").declaredMethods
            .filter { !it.isSynthetic && '$' !in it.name }.map { jvmName(it) }.toSet()
        val extra = declared - want
        check(extra.isEmpty()) {
            "$label has $extra, which tests/api.json does not give Kotlin (list them in apis.$api.operations, with a difference if other languages lack them)"
        }
    }
}

/** uniffi's own constructors of every object, beside the exported ones. */
val HANDLE_CONSTRUCTORS = setOf("UniffiWithHandle", "NoHandle")

val parityTests: List<Pair<String, suspend () -> Unit>> = with(ApiManifest) { listOf(
    "Doorward and its sub-APIs have the operations of tests/api.json" to {
        compare("Doorward", "doorward", Doorward::class.java)
        val open = camel(apis.getValue("doorward")["constructor"] as String)
        check(Doorward.Companion::class.java.methods.any { it.name == open }) { "Doorward.$open" }
        for ((api, spec) in apis) {
            if (spec["reached"] != "accessor" || !inKotlin(api)) continue
            val accessor = Doorward::class.java.methods.firstOrNull { it.name == camel(api) && it.parameterCount == 0 }
                ?: throw AssertionError("Doorward.${camel(api)}() is missing (a sub-API in tests/api.json)")
            // The class keeps the Rust type's name (`OAuth` for `oauth`).
            val names = setOf(pascal(api)) + (spec["rust"] as List<*>).map { it as String }
            check(accessor.returnType.simpleName in names) { "Doorward.${camel(api)}() returns ${accessor.returnType.simpleName}, not one of $names" }
            compare("Doorward.${camel(api)}()", api, accessor.returnType)
        }
    },

    "each class the app constructs or receives has the operations of tests/api.json" to {
        for ((api, spec) in apis) {
            if (spec["reached"] == "root" || spec["reached"] == "accessor" || !inKotlin(api)) continue
            val cls = try {
                Class.forName("doorward.${pascal(api)}")
            } catch (e: ClassNotFoundException) {
                throw AssertionError("${pascal(api)} is not generated (tests/api.json: $api)")
            }
            compare(pascal(api), api, cls)
            if (spec["constructor"] != null) {
                val exported = cls.constructors.filter { it.parameterTypes.firstOrNull()?.simpleName !in HANDLE_CONSTRUCTORS }
                check(exported.isNotEmpty()) { "${pascal(api)} has no constructor (tests/api.json: $api)" }
            }
        }
    },

    "what tests/api.json keeps from Kotlin is not generated" to {
        for ((api, spec) in apis) {
            if (spec["reached"] == "root" || inKotlin(api)) continue
            val generated = runCatching { Class.forName("doorward.${pascal(api)}") }.isSuccess
            check(!generated) { "${pascal(api)} is generated: say so in tests/api.json" }
            check(Doorward::class.java.methods.none { it.name == camel(api) }) { "Doorward.${camel(api)}() exists" }
        }
    },
) }
