// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/tomato_export.h>
#include <QtCore/QString>
#include <QtCore/QStringView>

namespace Tomato {

// The body encodings a frame can carry: the frame's "serialization" byte (docs/PROTOCOL.md).
enum class Serialization : quint8 {
    Binary = 0, // CBOR (RFC 8949), the default: compact, self-describing, in every language
    Json = 1,   // UTF-8 JSON, for interoperability and hand-written clients
};

// Parses a Serialization name ("binary", "cbor" or "json", any case); false when unknown.
TOMATO_EXPORT bool serializationFromName(QStringView name, Serialization *out);
// "binary" or "json".
TOMATO_EXPORT QString serializationName(Serialization s);

} // namespace Tomato
