// SPDX-License-Identifier: Apache-2.0
#pragma once
// The byte-for-byte examples of docs/PROTOCOL.md, for tests that send them to a real server:
// each is a ```hex block after a marker comment (<!-- example-request --> and the like).
#include <QtCore/QByteArray>
#include <QtCore/QFile>
#include <QtCore/QString>

// The hex block that follows `marker` in the document's text, as bytes; empty when missing.
inline QByteArray documentedBytes(const QByteArray &doc, const QByteArray &marker)
{
    const qsizetype at = doc.indexOf(marker);
    const qsizetype start = doc.indexOf("```hex\n", at);
    const qsizetype end = doc.indexOf("```", start + 7);
    if (at < 0 || start < 0 || end < 0)
        return {};
    return QByteArray::fromHex(doc.mid(start + 7, end - start - 7).simplified().replace(' ', ""));
}

// The same, reading the document from `path`.
inline QByteArray documentedBytes(const QString &path, const QByteArray &marker)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return documentedBytes(file.readAll(), marker);
}
