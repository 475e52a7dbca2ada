#pragma once
#include <tomato/core/tomato_export.h>
#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>
#include <utility>

namespace Tomato {

// The frame extension: an ordered list of UTF-8 key/value pairs, written as
// `key:value&key:value` with every byte outside [A-Za-z0-9-._~] percent-encoded (%XX), so any
// key and value round-trips, ':' and '&' included. Keys used by the protocol are in
// ExtensionKey; user context travels under keys starting with "ctx.".
// A plain value; use from one thread at a time.
class TOMATO_EXPORT Extension
{
public:
    Extension() = default;

    void insert(const QByteArray &key, const QByteArray &value);
    void insert(const QByteArray &key, const QString &value) { insert(key, value.toUtf8()); }
    // The value of the first entry with this key; `fallback` when there is none.
    QByteArray value(QByteArrayView key, const QByteArray &fallback = {}) const;
    bool contains(QByteArrayView key) const;
    const QList<std::pair<QByteArray, QByteArray>> &entries() const { return m_entries; }
    bool isEmpty() const { return m_entries.isEmpty(); }

    QByteArray encode() const;
    void encodeTo(QByteArray &out) const;
    // False (and *error set) on a malformed escape or an entry without ':'.
    static bool decode(QByteArrayView bytes, Extension *out, QString *error);

    static void escapeTo(QByteArrayView raw, QByteArray &out);

private:
    QList<std::pair<QByteArray, QByteArray>> m_entries;
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
} // namespace ExtensionKey

} // namespace Tomato
