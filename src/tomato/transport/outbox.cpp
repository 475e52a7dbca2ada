#include <tomato/transport/outbox_p.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Tomato {

Outbox::Outbox(QObject *owner, std::function<void()> flush)
    : m_owner(owner), m_flush(std::move(flush))
{
}

Outbox::~Outbox()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

void Outbox::scheduleLocked()
{
    if (m_scheduled)
        return;
    m_scheduled = true;
    QMetaObject::invokeMethod(m_owner, m_flush, Qt::QueuedConnection);
}

bool Outbox::writeLocked(const char *data, qsizetype size, qsizetype *written)
{
    *written = 0;
    while (*written < size) {
        const ssize_t n = ::send(m_fd, data + *written, size_t(size - *written),
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            *written += n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        m_failed = true;
        return false;
    }
    return true;
}

bool Outbox::post(QByteArray &&frame, When when)
{
    QMutexLocker lock(&m_mutex);
    if (m_closed)
        return false;
    if (when == When::WriteNow && m_fd >= 0 && m_pending.isEmpty() && !m_failed) {
        qsizetype written = 0;
        if (writeLocked(frame.constData(), frame.size(), &written) && written == frame.size())
            return true;
        if (m_failed) {
            scheduleLocked(); // the I/O thread notices the broken connection
            return true;
        }
        frame.remove(0, written);
    }
    if (m_pending.isEmpty())
        m_pending = std::move(frame);
    else
        m_pending.append(frame);
    scheduleLocked();
    return true;
}

void Outbox::attachSocket(qintptr descriptor)
{
    QMutexLocker lock(&m_mutex);
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = descriptor >= 0 ? ::fcntl(int(descriptor), F_DUPFD_CLOEXEC, 0) : -1;
    m_failed = m_fd < 0;
}

void Outbox::detachSocket()
{
    QMutexLocker lock(&m_mutex);
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
    m_failed = false;
    m_pending.clear();
    m_scheduled = false;
}

Outbox::FlushResult Outbox::flush()
{
    QMutexLocker lock(&m_mutex);
    m_scheduled = false;
    if (m_fd < 0)
        return m_pending.isEmpty() ? FlushResult::Done : FlushResult::NoSocket;
    if (m_failed)
        return FlushResult::Failed;
    if (m_pending.isEmpty())
        return FlushResult::Done;
    qsizetype written = 0;
    if (!writeLocked(m_pending.constData(), m_pending.size(), &written))
        return FlushResult::Failed;
    if (written == m_pending.size()) {
        m_pending.clear();
        return FlushResult::Done;
    }
    m_pending.remove(0, written);
    return FlushResult::Blocked;
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
    return m_pending.size();
}

qintptr Outbox::descriptor() const
{
    QMutexLocker lock(&m_mutex);
    return m_fd;
}

void Outbox::close()
{
    QMutexLocker lock(&m_mutex);
    m_closed = true;
    m_pending.clear();
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

bool Outbox::isClosed() const
{
    QMutexLocker lock(&m_mutex);
    return m_closed;
}

} // namespace Tomato
