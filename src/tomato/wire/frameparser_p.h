// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/rpcerror.h>
#include <tomato/wire/frame_p.h>
#include <QtCore/QString>

namespace Tomato {

// Incremental parser of a byte stream into frames. Feed it whatever the socket gave;
// any split or merge of reads works. Owned and used by one connection on its I/O thread.
//
// Outcomes of next():
//  - NeedMore: no complete frame buffered yet.
//  - Frame:    frame() holds the next frame.
//  - TooLarge: a frame announced more than maxFrameBytes. Decided from its 24-byte header,
//              before the rest is buffered; frame() holds that header (message id!) with
//              empty extension and body. The parser then discards the frame's remaining
//              bytes as they arrive, so the stream stays in sync and the connection lives.
//  - Corrupt:  the stream cannot be trusted (wrong magic, impossible lengths, unknown
//              version). errorCode()/errorString() say why; every later call returns
//              Corrupt again. The owner answers with an Error frame and closes.
class FrameParser
{
public:
    enum Result { NeedMore, Frame, Corrupt, TooLarge };

    explicit FrameParser(qint64 maxFrameBytes = 16 << 20);

    // Appends bytes, then returns next().
    Result feed(QByteArrayView bytes);
    void append(QByteArrayView bytes);
    void append(QByteArray &&bytes); // takes the bytes over when nothing is buffered
    // Zero-copy reading: a place for up to n more bytes, then how many were written there.
    char *appendSpace(qint64 n);
    void commitAppend(qint64 written);
    Result next();

    const Tomato::Frame &frame() const { return m_frame; }
    Tomato::Frame takeFrame() { return std::move(m_frame); }

    RpcError::Code errorCode() const { return m_errorCode; }
    QString errorString() const { return m_errorString; }
    qint64 maxFrameBytes() const { return m_maxFrameBytes; }
    // Bytes held, for tests and accounting.
    qsizetype bufferedBytes() const { return m_buffer.size() - m_pos; }
    // Bytes allocated for them (tests: memory grows with what arrived, not with what was announced).
    qsizetype allocatedBytes() const { return m_buffer.capacity(); }
    // The whole size, from its header, of the frame whose first bytes are buffered (at least
    // the header's size while the length is not in yet); 0 when nothing is buffered. After
    // next() returned NeedMore, this is what the frame will take once complete (a receiver's
    // memory budget reserves it before reading on). A frame over maxFrameBytes is never
    // buffered, it is skipped: for it, only the header's size.
    qint64 startedFrameBytes() const;
    // Bytes of an oversized frame still to be discarded as they arrive.
    qint64 skipping() const { return m_skip; }
    // The unparsed bytes held, without taking them (a server looks at a connection's first
    // bytes to tell an HTTP request from a frame).
    QByteArrayView buffered() const { return QByteArrayView(m_buffer).sliced(m_pos); }
    // Takes every unparsed byte out (the parser is empty afterwards): for a connection that
    // turns out to speak another protocol, or as a plain byte sink for Stream::readInto().
    QByteArray takeBuffered();
    // Bytes appended since construction, for the byte counters.
    quint64 totalAppended() const { return m_totalAppended; }

private:
    static constexpr qint64 MinGrowth = 16 << 10;
    Result fail(RpcError::Code code, QString message);
    void compact();

    QByteArray m_buffer;
    qsizetype m_pos = 0;    // start of unparsed bytes in m_buffer
    qsizetype m_committed = 0; // m_buffer size before appendSpace()
    quint64 m_totalAppended = 0;
    qint64 m_skip = 0;      // bytes of an oversized frame still to discard
    qint64 m_maxFrameBytes;
    bool m_corrupt = false;
    RpcError::Code m_errorCode = RpcError::Ok;
    QString m_errorString;
    Tomato::Frame m_frame;
};

} // namespace Tomato
