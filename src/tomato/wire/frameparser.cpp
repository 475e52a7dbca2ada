// SPDX-License-Identifier: Apache-2.0
#include <tomato/wire/frameparser_p.h>
#include <QtCore/QtEndian>
#include <utility>

namespace Tomato {

FrameParser::FrameParser(qint64 maxFrameBytes)
    : m_maxFrameBytes(maxFrameBytes)
{
}

FrameParser::Result FrameParser::feed(QByteArrayView bytes)
{
    append(bytes);
    return next();
}

qint64 FrameParser::startedFrameBytes() const
{
    const qsizetype avail = m_buffer.size() - m_pos;
    if (m_corrupt || avail <= 0)
        return 0;
    if (avail < 5)
        return Frame::HeaderSize;
    const auto *p = reinterpret_cast<const uchar *>(m_buffer.constData()) + m_pos;
    const qint64 total = 5 + qint64(qFromBigEndian<quint32>(p + 1));
    // Over the limit, it will be skipped once its header is in: only the header is needed.
    return total > m_maxFrameBytes ? qint64(Frame::HeaderSize) : qMax<qint64>(Frame::HeaderSize, total);
}

QByteArray FrameParser::takeBuffered()
{
    compact();
    return std::exchange(m_buffer, QByteArray());
}

void FrameParser::append(QByteArrayView bytes)
{
    m_totalAppended += quint64(bytes.size());
    if (m_corrupt || bytes.isEmpty())
        return;
    if (m_skip > 0) {
        const qint64 n = qMin<qint64>(m_skip, bytes.size());
        m_skip -= n;
        bytes = bytes.sliced(n);
        if (bytes.isEmpty())
            return;
    }
    compact();
    m_buffer.append(bytes.data(), bytes.size());
}

void FrameParser::append(QByteArray &&bytes)
{
    if (m_skip == 0 && m_pos == m_buffer.size() && !m_corrupt) {
        m_totalAppended += quint64(bytes.size());
        m_buffer = std::move(bytes); // no copy for the common whole-read case
        m_pos = 0;
        return;
    }
    append(QByteArrayView(bytes));
}

char *FrameParser::appendSpace(qint64 n)
{
    compact();
    m_committed = m_buffer.size();
    // Exactly what this read may bring (QByteArray::resize alone would round the allocation up
    // to the next power of two: 8 MiB for a 5 MiB frame). Growth stays geometric: next()
    // reserves ahead by what has arrived.
    if (m_buffer.capacity() < m_committed + n)
        m_buffer.reserve(m_committed + n);
    m_buffer.resize(m_committed + n);
    return m_buffer.data() + m_committed;
}

void FrameParser::commitAppend(qint64 written)
{
    m_buffer.resize(m_committed + qMax<qint64>(0, written));
    m_totalAppended += quint64(qMax<qint64>(0, written));
    if (m_corrupt) {
        m_buffer.clear();
        return;
    }
    if (m_skip > 0) {
        // Still discarding an oversized frame: drop what arrived of it.
        const qint64 n = qMin<qint64>(m_skip, m_buffer.size() - m_committed);
        m_buffer.remove(m_committed, n);
        m_skip -= n;
    }
}

void FrameParser::compact()
{
    if (m_pos == 0)
        return;
    if (m_pos == m_buffer.size()) {
        m_buffer.clear();
    } else {
        m_buffer.remove(0, m_pos);
    }
    m_pos = 0;
}

FrameParser::Result FrameParser::fail(RpcError::Code code, QString message)
{
    m_corrupt = true;
    m_errorCode = code;
    m_errorString = std::move(message);
    m_buffer.clear();
    m_pos = 0;
    return Corrupt;
}

FrameParser::Result FrameParser::next()
{
    if (m_corrupt)
        return Corrupt;
    const qsizetype avail = m_buffer.size() - m_pos;
    if (avail <= 0)
        return NeedMore;
    const uchar *p = reinterpret_cast<const uchar *>(m_buffer.constData()) + m_pos;
    if (p[0] != Frame::Magic)
        return fail(RpcError::MalformedFrame,
                    QStringLiteral("bad magic byte 0x%1 (expected 0xac)")
                        .arg(uint(p[0]), 2, 16, QLatin1Char('0')));
    if (avail < 5)
        return NeedMore;
    const quint32 length = qFromBigEndian<quint32>(p + 1);
    if (length < quint32(Frame::LengthCovered))
        return fail(RpcError::MalformedFrame,
                    QStringLiteral("frame length %1 is below the minimum %2")
                        .arg(length).arg(Frame::LengthCovered));
    if (avail >= 9) {
        const quint32 version = qFromBigEndian<quint32>(p + 5);
        if (version != Frame::CurrentVersion)
            return fail(RpcError::UnsupportedVersion,
                        QStringLiteral("protocol version %1 is not supported (this peer speaks %2)")
                            .arg(version).arg(Frame::CurrentVersion));
    }
    if (avail >= 13) {
        const quint32 extLen = qFromBigEndian<quint32>(p + 9);
        if (extLen > length - quint32(Frame::LengthCovered))
            return fail(RpcError::MalformedFrame,
                        QStringLiteral("extension length %1 exceeds frame length %2")
                            .arg(extLen).arg(length));
    }
    if (avail < Frame::HeaderSize)
        return NeedMore;

    m_frame.version = qFromBigEndian<quint32>(p + 5);
    const quint32 extLen = qFromBigEndian<quint32>(p + 9);
    m_frame.command = qFromBigEndian<quint16>(p + 13);
    m_frame.serialization = p[15];
    m_frame.messageId = qFromBigEndian<quint64>(p + 16);

    const qint64 total = 5 + qint64(length);
    if (total > m_maxFrameBytes) {
        m_frame.extension.clear();
        m_frame.body.clear();
        // Discard what is buffered of this frame and whatever follows until its end.
        const qint64 have = qMin<qint64>(avail, total);
        m_pos += have;
        m_skip = total - have;
        m_errorCode = RpcError::FrameTooLarge;
        m_errorString = QStringLiteral("frame of %1 bytes exceeds max-frame-bytes %2")
                            .arg(total).arg(m_maxFrameBytes);
        return TooLarge;
    }
    if (avail < total) {
        // Room grows with what arrived (doubling, up to the frame's end), never with what a
        // header announces: a peer that announces 16 MiB and stalls has cost a few bytes.
        const qint64 want = m_pos + qMin<qint64>(total, qMax<qint64>(2 * qint64(avail), MinGrowth));
        if (m_buffer.capacity() < want)
            m_buffer.reserve(want);
        return NeedMore;
    }

    const qsizetype bodyLen = qsizetype(length) - Frame::LengthCovered - qsizetype(extLen);
    const qsizetype extStart = m_pos + Frame::HeaderSize;
    if (m_pos == 0 && total == m_buffer.size()) {
        // The buffer holds exactly this frame: hand the body out without copying it
        // (removing from the front of a QByteArray only moves its start).
        m_frame.extension = m_buffer.mid(Frame::HeaderSize, extLen);
        m_frame.body = std::move(m_buffer);
        m_frame.body.remove(0, Frame::HeaderSize + extLen);
        m_buffer = QByteArray();
        m_pos = 0;
        return Frame;
    }
    if (extLen > 0 && bodyLen > 0) {
        // One allocation for both, of exactly their size: two references to it, the extension
        // its front, the body the rest (which ends it, so stays '\0'-terminated; the
        // extension is read by its size only). A write to either copies it first.
        QByteArray both = m_buffer.mid(extStart, extLen + bodyLen);
        m_frame.extension = both;
        m_frame.extension.data_ptr().size = extLen;
        QByteArray::DataPointer &body = both.data_ptr();
        body.ptr += extLen;
        body.size = bodyLen;
        m_frame.body = std::move(both);
    } else {
        m_frame.extension = m_buffer.mid(extStart, extLen);
        m_frame.body = m_buffer.mid(extStart + extLen, bodyLen);
    }
    m_pos += total;
    if (m_pos == m_buffer.size()) {
        m_buffer.clear();
        m_pos = 0;
    } else if (m_buffer.capacity() > 4 * MinGrowth && m_buffer.size() - m_pos < m_buffer.capacity() / 4) {
        // A large frame went out and a little of the next one is left: keep that in a buffer
        // of its size, not the large one's.
        m_buffer = m_buffer.mid(m_pos);
        m_pos = 0;
    }
    return Frame;
}

} // namespace Tomato
