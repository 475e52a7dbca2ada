#include <tomato/wire/frame.h>
#include <QtCore/QtEndian>

namespace Tomato {

void Frame::encode(QByteArray &out, quint16 command, quint8 serialization, quint64 messageId,
                   QByteArrayView extension, QByteArrayView body, quint32 version)
{
    const qsizetype start = out.size();
    out.resize(start + HeaderSize);
    uchar *p = reinterpret_cast<uchar *>(out.data()) + start;
    p[0] = Magic;
    qToBigEndian<quint32>(quint32(LengthCovered + extension.size() + body.size()), p + 1);
    qToBigEndian<quint32>(version, p + 5);
    qToBigEndian<quint32>(quint32(extension.size()), p + 9);
    qToBigEndian<quint16>(command, p + 13);
    p[15] = serialization;
    qToBigEndian<quint64>(messageId, p + 16);
    out.append(extension.data(), extension.size());
    out.append(body.data(), body.size());
}

} // namespace Tomato
