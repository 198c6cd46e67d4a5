// A small, strict JSON reader for the shared corpora (VectorsTest.kt): the
// tests' classpath has no JSON library. Objects are `Map<String, Any?>` in
// document order, arrays `List<Any?>`, numbers `Long` when written as
// integers that fit and `Double` otherwise, strings `String` (every escape,
// `\u0000` and surrogate pairs included), and true, false and null.
// Anything else is an error naming the offset, never a guess.

object JsonReader {
    fun parse(text: String): Any? = Reader(text).run {
        val value = value()
        space()
        if (at != text.length) fail("trailing text")
        value
    }

    private class Reader(val text: String) {
        var at = 0

        fun fail(what: String): Nothing = throw IllegalArgumentException("JSON: $what at offset $at")

        fun space() {
            while (at < text.length && text[at] in " \t\r\n") at++
        }

        fun expect(c: Char) {
            if (at >= text.length || text[at] != c) fail("expected '$c'")
            at++
        }

        fun value(): Any? {
            space()
            if (at >= text.length) fail("unexpected end")
            return when (text[at]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> word("true", true)
                'f' -> word("false", false)
                'n' -> word("null", null)
                else -> number()
            }
        }

        fun obj(): Map<String, Any?> {
            val out = LinkedHashMap<String, Any?>()
            expect('{')
            space()
            if (at < text.length && text[at] == '}') return out.also { at++ }
            while (true) {
                space()
                val key = string()
                if (key in out) fail("duplicate key \"$key\"")
                space()
                expect(':')
                out[key] = value()
                space()
                if (at < text.length && text[at] == ',') at++ else break
            }
            expect('}')
            return out
        }

        fun array(): List<Any?> {
            val out = ArrayList<Any?>()
            expect('[')
            space()
            if (at < text.length && text[at] == ']') return out.also { at++ }
            while (true) {
                out.add(value())
                space()
                if (at < text.length && text[at] == ',') at++ else break
            }
            expect(']')
            return out
        }

        fun word(word: String, value: Any?): Any? {
            if (!text.startsWith(word, at)) fail("unexpected text")
            at += word.length
            return value
        }

        // JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        private val numberPattern = Regex("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")

        fun number(): Any {
            val match = numberPattern.matchAt(text, at) ?: fail("not a value")
            at = match.range.last + 1
            val integer = match.groupValues[2].isEmpty() && match.groupValues[3].isEmpty()
            // An integer too large for a Long is kept as the Double JSON readers
            // commonly give, never cut to another whole number.
            return (if (integer) match.value.toLongOrNull() else null) ?: match.value.toDouble()
        }

        /** Four hex digits after `\u`, as one UTF-16 unit. */
        fun unit(): Char {
            if (at + 4 > text.length) fail("short \\u escape")
            val hex = text.substring(at, at + 4)
            if (!hex.all { it in '0'..'9' || it in 'a'..'f' || it in 'A'..'F' }) fail("bad \\u escape")
            at += 4
            return hex.toInt(16).toChar()
        }

        fun string(): String {
            expect('"')
            val out = StringBuilder()
            while (true) {
                if (at >= text.length) fail("unterminated string")
                val c = text[at++]
                when {
                    c == '"' -> return out.toString()
                    c < ' ' -> fail("control character in a string")
                    c != '\\' -> out.append(c)
                    else -> {
                        if (at >= text.length) fail("unterminated escape")
                        when (val e = text[at++]) {
                            '"', '\\', '/' -> out.append(e)
                            'b' -> out.append('\b')
                            'f' -> out.append('\u000c')
                            'n' -> out.append('\n')
                            'r' -> out.append('\r')
                            't' -> out.append('\t')
                            'u' -> {
                                val u = unit()
                                // A UTF-16 pair is two escapes; a lone half would reach
                                // the binding as text it cannot encode, so refuse it.
                                if (u.isHighSurrogate()) {
                                    if (!text.startsWith("\\u", at)) fail("lone high surrogate")
                                    at += 2
                                    val low = unit()
                                    if (!low.isLowSurrogate()) fail("high surrogate without its low half")
                                    out.append(u).append(low)
                                } else if (u.isLowSurrogate()) {
                                    fail("lone low surrogate")
                                } else {
                                    out.append(u)
                                }
                            }
                            else -> fail("bad escape \\$e")
                        }
                    }
                }
            }
        }
    }
}
