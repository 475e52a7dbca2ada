#include <tomato/transport/stream_p.h>

namespace Tomato {

Stream::Stream(QObject *parent) : QObject(parent) { }

Stream::~Stream() = default;

void Stream::markReady()
{
    if (m_ready || m_closed)
        return;
    m_ready = true;
    Q_EMIT ready();
}

void Stream::markClosed(const QString &why)
{
    if (m_closed)
        return;
    markEnded(why);
    Q_EMIT closed();
}

void Stream::markEnded(const QString &why)
{
    if (m_closed)
        return;
    m_closed = true;
    m_error = why;
}

} // namespace Tomato
