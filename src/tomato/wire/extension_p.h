// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QString>
#include <QtCore/QVarLengthArray>
#include <utility>

namespace Tomato {

// The frame extension: an ordered list of UTF-8 key/value pairs, written as
// `key:value&key:value` with every byte outside [A-Za-z0-9-._~] percent-encoded (%XX), so any
// key and value round-trips, ':' and '&' included. Keys used by the protocol are in
// ExtensionKey; user context travels under keys starting with "ctx.".
// A plain value; use from one thread at a time.
class Extension
{
public:
    Extension() = default;

    void insert(const QByteArray &key, const QByteArray &value);
    void insert(const QByteArray &key, const QString &value) { insert(key, value.toUtf8()); }
    // The value of the first entry with this key (an independent copy); `fallback` when
    // there is none.
    QByteArray value(QByteArrayView key, const QByteArray &fallback = {}) const;
    // The same without copying: valid while this Extension lives. Empty when absent.
    QByteArrayView view(QByteArrayView key) const;
    bool contains(QByteArrayView key) const;
    using Entries = QVarLengthArray<std::pair<QByteArray, QByteArray>, 8>;
    // Valid while this Extension lives: decoded entries may point into its source bytes.
    const Entries &entries() const { return m_entries; }
    bool isEmpty() const { return m_entries.isEmpty(); }

    QByteArray encode() const;
    void encodeTo(QByteArray &out) const;
    // False (and *error set) on a malformed escape or an entry without ':'.
    // Decoding a QByteArray shares it: entries without escapes point into it, so decoding a
    // typical request extension allocates nothing.
    static bool decode(const QByteArray &bytes, Extension *out, QString *error);
    static bool decode(QByteArrayView bytes, Extension *out, QString *error)
    {
        return decode(bytes.toByteArray(), out, error);
    }
    static bool decode(const char *bytes, Extension *out, QString *error)
    {
        return decode(QByteArray(bytes), out, error);
    }

    static void escapeTo(QByteArrayView raw, QByteArray &out);

private:
    QByteArray m_source; // what decode() read; unescaped entries are raw views into it
    Entries m_entries;
};

// Extension keys the protocol defines (docs/PROTOCOL.md).
namespace ExtensionKey {
inline constexpr char Service[] = "service";       // interface class name, e.g. Sample::EchoService
inline constexpr char Method[] = "method";         // method name
inline constexpr char TimeoutMs[] = "timeout-ms";  // caller's remaining budget in ms
inline constexpr char TraceId[] = "trace-id";
inline constexpr char Compression[] = "compression"; // gzip | zstd: the body is compressed
inline constexpr char Code[] = "code";             // response: decimal RpcError code, 0 = ok
inline constexpr char Message[] = "message";       // response: error text
inline constexpr char ExceptionType[] = "exception-type"; // response: remote C++ exception type
inline constexpr char ContextPrefix[] = "ctx.";    // user context: ctx.<name>
inline constexpr char Signal[] = "signal";         // subscribe: the signal's name
inline constexpr char Seq[] = "seq";               // event: 1, 2, ... per subscription
} // namespace ExtensionKey

} // namespace Tomato
