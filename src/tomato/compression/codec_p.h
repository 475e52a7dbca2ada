// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QString>

namespace Tomato {

// Body compression, named in the frame extension as `compression:<name>`.
// Stateless and thread-safe.
namespace Compression {

enum class Kind : quint8 { None, Gzip, Zstd };

// "none" (or empty), "gzip", "zstd"; false for anything else.
bool fromName(QByteArrayView name, Kind *out);
QByteArray name(Kind kind);

QByteArray compress(Kind kind, QByteArrayView data);
// Refuses (false, *error set) corrupt input and output larger than maxBytes, so a small
// frame cannot expand into an unbounded buffer.
bool decompress(Kind kind, QByteArrayView data, qint64 maxBytes, QByteArray *out, QString *error);

} // namespace Compression
} // namespace Tomato
