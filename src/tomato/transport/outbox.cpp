#include <tomato/transport/outbox_p.h>

namespace Tomato {

Outbox::Outbox(QObject *owner, std::function<void()> flush)
    : m_owner(owner), m_flush(std::move(flush))
{
}

void Outbox::scheduleLocked()
{
    if (m_scheduled)
        return;
    m_scheduled = true;
    QMetaObject::invokeMethod(m_owner, m_flush, Qt::QueuedConnection);
}

bool Outbox::post(QByteArray &&frame)
{
    QMutexLocker lock(&m_mutex);
    if (m_closed)
        return false;
    if (m_pending.isEmpty())
        m_pending = std::move(frame);
    else
        m_pending.append(frame);
    scheduleLocked();
    return true;
}

bool Outbox::post(QByteArrayView frame)
{
    QMutexLocker lock(&m_mutex);
    if (m_closed)
        return false;
    m_pending.append(frame.data(), frame.size());
    scheduleLocked();
    return true;
}

QByteArray Outbox::take()
{
    QMutexLocker lock(&m_mutex);
    m_scheduled = false;
    return std::exchange(m_pending, QByteArray());
}

void Outbox::close()
{
    QMutexLocker lock(&m_mutex);
    m_closed = true;
    m_pending.clear();
}

bool Outbox::isClosed() const
{
    QMutexLocker lock(&m_mutex);
    return m_closed;
}

} // namespace Tomato
