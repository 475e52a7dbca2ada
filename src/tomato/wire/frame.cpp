// SPDX-License-Identifier: Apache-2.0
#include <tomato/wire/frame_p.h>
#include <QtCore/QtEndian>

namespace Tomato {

void Frame::writeHeader(uchar *p, quint16 command, quint8 serialization, quint64 messageId,
                        quint32 extensionSize, quint32 bodySize, quint32 version)
{
    p[0] = Magic;
    qToBigEndian<quint32>(quint32(LengthCovered) + extensionSize + bodySize, p + 1);
    qToBigEndian<quint32>(version, p + 5);
    qToBigEndian<quint32>(extensionSize, p + 9);
    qToBigEndian<quint16>(command, p + 13);
    p[15] = serialization;
    qToBigEndian<quint64>(messageId, p + 16);
}

void Frame::encode(QByteArray &out, quint16 command, quint8 serialization, quint64 messageId,
                   QByteArrayView extension, QByteArrayView body, quint32 version)
{
    const qsizetype start = out.size();
    out.reserve(start + HeaderSize + extension.size() + body.size());
    out.resize(start + HeaderSize);
    writeHeader(reinterpret_cast<uchar *>(out.data()) + start, command, serialization, messageId,
                quint32(extension.size()), quint32(body.size()), version);
    out.append(extension.data(), extension.size());
    out.append(body.data(), body.size());
}

} // namespace Tomato
