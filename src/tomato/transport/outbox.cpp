// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/outbox_p.h>

#include <tomato/core/tsan_p.h>
#include <tomato/transport/stream_p.h>

#include <QtCore/QSocketNotifier>


namespace Tomato {

Outbox::Outbox(QObject *owner, std::function<void()> flush)
    : m_owner(owner), m_flush(std::move(flush))
{
}

Outbox::~Outbox() = default;

void Outbox::scheduleLocked()
{
    if (m_scheduled)
        return;
    m_scheduled = true;
    tomatoTsanRelease(this); // acquired in flush(): Qt's event queue orders them (core/tsan_p.h)
    QMetaObject::invokeMethod(m_owner, m_flush, Qt::QueuedConnection);
}

// Bytes taken (maybe fewer than `size` when the kernel buffer fills), -1 when broken.
qint64 Outbox::writeLocked(const char *data, qsizetype size)
{
    const qint64 n = m_direct ? m_direct->write(data, size) : m_stream->write(data, size);
    if (n < 0)
        m_failed = true;
    return n;
}

// `written` bytes of m_pending have gone: drops them and finds the next frame boundary (frames
// say their size: 5 + the length field) for m_headTail.
void Outbox::consumedLocked(qsizetype written)
{
    qsizetype boundary = m_headTail;
    while (boundary < written) {
        const auto *h = reinterpret_cast<const uchar *>(m_pending.constData() + boundary + 1);
        boundary += 5 + ((qsizetype(h[0]) << 24) | (qsizetype(h[1]) << 16) | (qsizetype(h[2]) << 8) | qsizetype(h[3]));
    }
    m_headTail = boundary - written;
    if (written == m_pending.size())
        m_pending.clear();
    else
        m_pending.remove(0, written);
}

bool Outbox::post(QByteArray &&frame, When when)
{
    return post(std::move(frame), QByteArray(), when);
}

bool Outbox::post(QByteArray &&head, QByteArray &&tail, When when)
{
    QMutexLocker lock(&m_mutex);
    if (m_closed || m_finishing)
        return false;
    const qsizetype size = head.size() + tail.size();
    qsizetype written = 0;
    if (when == When::WriteNow && m_direct && m_pending.isEmpty() && !m_failed) {
        const qint64 n = tail.isEmpty()
            ? m_direct->write(head.constData(), head.size())
            : m_direct->writeParts(head.constData(), head.size(), tail.constData(), tail.size());
        if (n < 0)
            m_failed = true;
        if (n < 0 || (n == size && m_direct->backlog() > 0))
            scheduleLocked(); // the I/O thread notices the broken connection / sends the backlog
        if (n < 0 || n == size)
            return true;
        written = qsizetype(n);
        m_headTail = written > 0 ? size - written : 0; // the rest of a frame begun
    }
    if (tail.isEmpty()) {
        head.remove(0, written);
        enqueueLocked(std::move(head));
        return true;
    }
    // What is left, in one piece: the only copy of the payload, and only when it must wait.
    QByteArray rest;
    rest.reserve(size - written);
    if (written < head.size())
        rest.append(QByteArrayView(head).sliced(written));
    rest.append(QByteArrayView(tail).sliced(qMax<qsizetype>(0, written - head.size())));
    enqueueLocked(std::move(rest));
    return true;
}

void Outbox::enqueueLocked(QByteArray &&bytes)
{
    countLocked(bytes.size());
    if (m_pending.isEmpty())
        m_pending = std::move(bytes);
    else
        m_pending.append(bytes);
    scheduleLocked();
}

void Outbox::setAccount(BudgetAccount *account)
{
    QMutexLocker lock(&m_mutex);
    m_account = account;
}

void Outbox::dropPendingLocked()
{
    countLocked(-m_pending.size());
    m_pending.clear();
    m_headTail = 0;
}

void Outbox::finish(QByteArray &&last)
{
    QMutexLocker lock(&m_mutex);
    if (m_closed || m_finishing)
        return;
    m_finishing = true;
    // Keep the rest of the frame begun, so that the peer can parse on.
    const qsizetype keep = qMin(m_headTail, m_pending.size());
    countLocked(keep - m_pending.size() + last.size());
    m_pending.truncate(keep);
    m_pending.append(last);
    scheduleLocked();
}

void Outbox::attach(Stream *stream)
{
    QMutexLocker lock(&m_mutex);
    m_stream = stream;
    m_direct = stream->directWriter();
    m_failed = false;
}

void Outbox::detach()
{
    QMutexLocker lock(&m_mutex);
    m_direct.reset();
    m_stream = nullptr;
    m_failed = false;
    dropPendingLocked();
    m_scheduled = false;
}

Outbox::FlushResult Outbox::flush()
{
    tomatoTsanAcquire(this);
    QMutexLocker lock(&m_mutex);
    m_scheduled = false;
    if (!m_stream)
        return m_pending.isEmpty() ? FlushResult::Done : FlushResult::NoStream;
    if (m_failed)
        return FlushResult::Failed;
    if (m_pending.isEmpty()) {
        // What the writer took but could not send yet (TLS records) goes first, even alone.
        if (!m_direct || m_direct->backlog() == 0)
            return FlushResult::Done;
        if (writeLocked(nullptr, 0) < 0)
            return FlushResult::Failed;
        return m_direct->backlog() > 0 ? FlushResult::Blocked : FlushResult::Done;
    }
    const qint64 written = writeLocked(m_pending.constData(), m_pending.size());
    if (written < 0)
        return FlushResult::Failed;
    countLocked(-written);
    const bool all = written == m_pending.size() && (!m_direct || m_direct->backlog() == 0);
    consumedLocked(written);
    return all ? FlushResult::Done : FlushResult::Blocked;
}

void Outbox::scheduleFlush()
{
    QMutexLocker lock(&m_mutex);
    if (!m_closed)
        scheduleLocked();
}

qsizetype Outbox::pendingBytes() const
{
    QMutexLocker lock(&m_mutex);
    return m_pending.size() + (m_direct ? qsizetype(m_direct->backlog()) : 0);
}

qintptr Outbox::directDescriptor() const
{
    QMutexLocker lock(&m_mutex);
    return m_direct ? m_direct->descriptor() : -1;
}

void Outbox::close()
{
    QMutexLocker lock(&m_mutex);
    m_closed = true;
    dropPendingLocked();
    m_account = nullptr; // it may go now
    m_stream = nullptr;
    m_direct.reset();
}

bool Outbox::isClosed() const
{
    QMutexLocker lock(&m_mutex);
    return m_closed;
}

// ---- OutboxWriter ------------------------------------------------------------------------

OutboxWriter::~OutboxWriter()
{
    stop();
}

bool OutboxWriter::flush(Outbox &outbox, Stream *stream, QObject *owner, const std::function<void()> &retry)
{
    const Outbox::FlushResult result = outbox.flush();
    if (result == Outbox::FlushResult::Failed)
        return false;
    const bool blocked = result == Outbox::FlushResult::Blocked;
    const qintptr fd = outbox.directDescriptor();
    if (blocked && fd < 0 && stream && !m_streamWritable)
        m_streamWritable = QObject::connect(stream, &Stream::writable, owner, retry);
    if (blocked && fd >= 0 && !m_writable) {
        m_writable = new QSocketNotifier(fd, QSocketNotifier::Write, owner);
        QObject::connect(m_writable, &QSocketNotifier::activated, owner, retry);
    }
    if (m_writable)
        m_writable->setEnabled(blocked);
    return true;
}

void OutboxWriter::stop()
{
    delete m_writable;
    m_writable = nullptr;
    QObject::disconnect(m_streamWritable);
    m_streamWritable = {};
}

} // namespace Tomato
