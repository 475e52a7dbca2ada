// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/stream_p.h>

#include <cerrno>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace Tomato {

DirectWriter::~DirectWriter() = default;

qint64 DirectWriter::writeParts(const char *head, qint64 headSize, const char *tail, qint64 tailSize)
{
    const qint64 first = write(head, headSize);
    if (first < headSize)
        return first;
    const qint64 second = write(tail, tailSize);
    return second < 0 ? -1 : first + second;
}

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

    // Both pieces with one sendmsg(); fewer bytes taken means the kernel's buffer is full.
    qint64 writeParts(const char *head, qint64 headSize, const char *tail, qint64 tailSize) override
    {
        iovec parts[2] = {{const_cast<char *>(head), size_t(headSize)}, {const_cast<char *>(tail), size_t(tailSize)}};
        msghdr message{};
        message.msg_iov = parts;
        message.msg_iovlen = 2;
        while (true) {
            const ssize_t n = ::sendmsg(m_descriptor, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0)
                return n;
            if (errno != EINTR)
                return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
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
