// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/stream_p.h>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace Tomato {

DirectWriter::~DirectWriter() = default;

namespace {
class SocketWriter final : public DirectWriter
{
public:
    explicit SocketWriter(int descriptor) : DirectWriter(descriptor) { }
    ~SocketWriter() override { ::close(m_descriptor); }

    qint64 write(const char *data, qint64 size) override
    {
        qint64 written = 0;
        while (written < size) {
            const ssize_t n = ::send(m_descriptor, data + written, size_t(size - written), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                written += n;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            return -1;
        }
        return written;
    }
};
} // namespace

SharedWriter makeSocketWriter(int descriptor)
{
    // One allocation per connection: the writer and its count together.
    return std::make_shared<SocketWriter>(descriptor);
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
