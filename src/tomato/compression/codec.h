#pragma once
#include <tomato/core/tomato_export.h>
#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QString>

namespace Tomato {

// Body compression, named in the frame extension as `compression:<name>`.
// Stateless and thread-safe.
namespace Compression {

enum class Kind { None, Gzip, Zstd };

TOMATO_EXPORT bool fromName(QByteArrayView name, Kind *out); // "none", "gzip", "zstd"
TOMATO_EXPORT QByteArray name(Kind kind);

TOMATO_EXPORT QByteArray compress(Kind kind, QByteArrayView data);
// Refuses (false, *error set) corrupt input and output larger than maxBytes, so a small
// frame cannot expand into an unbounded buffer.
TOMATO_EXPORT bool decompress(Kind kind, QByteArrayView data, qint64 maxBytes, QByteArray *out,
                              QString *error);

} // namespace Compression
} // namespace Tomato
