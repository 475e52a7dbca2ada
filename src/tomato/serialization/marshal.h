#pragma once
#include <tomato/core/tomato_export.h>
#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QMetaType>
#include <QtCore/QString>

namespace Tomato {

// The body encodings a frame can carry (the frame's "serialization" byte).
enum class Serialization : quint8 {
    Binary = 0, // CBOR (RFC 8949), the default: compact, self-describing, in every language
    Json = 1,   // UTF-8 JSON, for interoperability and hand-written clients
};

// One value to encode: its type and a pointer to an object of that type.
struct ValueRef
{
    QMetaType type;
    const void *data = nullptr;
};

// Type-directed conversion between C++ values (described by QMetaType) and request and
// response bodies. Stateless and thread-safe: every function may be called from any thread.
// Decoding never trusts the input: a value of the wrong shape or type gives false and an
// error that names what was expected and what was found, never a crash.
namespace Marshal {

// Empty when values of `type` can be marshalled; otherwise why not, naming the type
// (and for a gadget or container, the part that is unsupported).
TOMATO_EXPORT QString unsupportedReason(QMetaType type);

// Parses a Serialization name ("binary", "cbor", "json"); false when unknown.
TOMATO_EXPORT bool serializationFromName(QStringView name, Serialization *out);
TOMATO_EXPORT QString serializationName(Serialization s);

// A request body: the argument values as one array (CBOR array / JSON array), appended to out.
TOMATO_EXPORT void encodeArguments(Serialization s, const ValueRef *values, qsizetype count,
                                   QByteArray &out);
// Decodes a request body into `count` already-constructed objects of the given types.
// The array must have exactly `count` elements.
TOMATO_EXPORT bool decodeArguments(Serialization s, QByteArrayView body, const QMetaType *types,
                                   void *const *out, qsizetype count, QString *error);

// A response body: one value (a CBOR data item / a JSON value), appended to out.
// A void result is an empty body and is not encoded through these functions.
TOMATO_EXPORT void encodeValue(Serialization s, ValueRef value, QByteArray &out);
// Decodes one value into an already-constructed object of `type`.
TOMATO_EXPORT bool decodeValue(Serialization s, QByteArrayView body, QMetaType type, void *out,
                               QString *error);

} // namespace Marshal
} // namespace Tomato
