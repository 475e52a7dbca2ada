// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/serialization.h>
#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QMetaType>
#include <QtCore/QString>

namespace Tomato {

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
QString unsupportedReason(QMetaType type);

// A request body: the argument values as one array (CBOR array / JSON array), appended to out.
// `tail`: as for encodeValue(), for the last argument.
void encodeArguments(Serialization s, const ValueRef *values, qsizetype count, QByteArray &out,
                     QByteArray *tail = nullptr);
// Decodes a request body into `count` already-constructed objects of the given types.
// The array must have exactly `count` elements.
// `owner`, when given, is the buffer `body` views, whole: a byte array of 64 KiB or more that
// ends it (the usual large payload: the last argument, or the value) takes that buffer over
// instead of being copied, and `owner` is left empty (binary serialization).
bool decodeArguments(Serialization s, QByteArrayView body, const QMetaType *types,
                     void *const *out, qsizetype count, QString *error, QByteArray *owner = nullptr);

// A response body: one value (a CBOR data item / a JSON value), appended to out.
// A void result is an empty body and is not encoded through these functions.
// `tail`, when given: a byte array of 64 KiB or more (binary serialization) is not copied;
// only its head goes to `out`, and `tail` shares the array, to be sent after `out`.
void encodeValue(Serialization s, ValueRef value, QByteArray &out, QByteArray *tail = nullptr);
// Decodes one value into an already-constructed object of `type`.
// `owner`: as for decodeArguments().
bool decodeValue(Serialization s, QByteArrayView body, QMetaType type, void *out, QString *error,
                 QByteArray *owner = nullptr);

} // namespace Marshal
} // namespace Tomato
