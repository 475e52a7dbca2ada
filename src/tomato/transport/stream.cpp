// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/stream_p.h>

#include <unistd.h>

namespace Tomato {

namespace {
struct DescriptorHolder
{
    explicit DescriptorHolder(int d) : fd(d) { }
    ~DescriptorHolder() { ::close(fd); }
    const int fd;
};
} // namespace

SharedDescriptor makeSharedDescriptor(int descriptor)
{
    // One allocation per connection: the holder and its count together.
    auto holder = std::make_shared<const DescriptorHolder>(descriptor);
    return SharedDescriptor(holder, &holder->fd);
}

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
