// SPDX-License-Identifier: Apache-2.0
// The status pages' HTTP request parsing (status/httpconnection.cpp, over http-parser) on an
// in-memory stream: the bytes arrive in reads cut where the input says, the answers are
// taken by the stream a few bytes or all at once, and the peer finishes sending at the end.
// Every connection must then answer, close and delete itself; what it wrote must be a
// sequence of well-formed HTTP/1.1 answers.
//
// Input: byte 0 seeds the cutting and the write sizes, the rest is what the peer sends.
#include <tomato/status/httpconnection_p.h>
#include <tomato/status/nodeintrospection_p.h>
#include <tomato/status/statuspages_p.h>
#include <tomato/transport/stream_p.h>
#include <tomato/wire/frameparser_p.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>
#include <QtCore/QPointer>

#include <cstdint>
#include <cstdlib>
#include <deque>

using namespace Tomato;

namespace {

// A connected stream whose peer sends `reads` one by one and then finishes.
class MemoryStream : public Stream
{
public:
    MemoryStream(std::deque<QByteArray> reads, quint32 seed, QByteArray *written)
        : m_reads(std::move(reads)), m_seed(seed), m_written(written)
    {
        markReady();
    }

    bool readInto(FrameParser &parser, qint64 maxBytes) override
    {
        if (m_reads.empty())
            return false;
        QByteArray &next = m_reads.front();
        const qsizetype n = qsizetype(qMin<qint64>(maxBytes, next.size()));
        parser.append(QByteArrayView(next).first(n));
        next.remove(0, n);
        if (next.isEmpty())
            m_reads.pop_front();
        return true;
    }
    bool hasMoreInput() const { return !m_reads.empty(); }

    qint64 write(const char *data, qint64 size) override
    {
        if (isClosed())
            return -1;
        m_seed = m_seed * 1103515245u + 12345u;
        // Sometimes the peer takes a little only; writable() follows from the test loop.
        const qint64 n = (m_seed >> 16) % 4 == 0 ? qMin<qint64>(size, 1 + (m_seed >> 20) % 16) : size;
        m_written->append(data, n);
        return n;
    }
    void close() override { markClosed(QStringLiteral("closed")); }
    void abort() override { markClosed(QStringLiteral("aborted")); }
    QString peer() const override { return QStringLiteral("memory"); }

    void notifyWritable() { Q_EMIT writable(); }
    void notifyReadable() { Q_EMIT readyRead(); }

private:
    std::deque<QByteArray> m_reads;
    quint32 m_seed;
    QByteArray *m_written; // what the peer received
};

// Checks that `out` is a sequence of complete answers: status line, headers, a body of
// Content-Length bytes (none after an answer to HEAD: not known here, so a body may be absent
// only at the very end).
bool wellFormed(const QByteArray &out)
{
    qsizetype pos = 0;
    while (pos < out.size()) {
        if (!out.mid(pos).startsWith("HTTP/1.1 "))
            return false;
        const qsizetype end = out.indexOf("\r\n\r\n", pos);
        if (end < 0)
            return false;
        const QByteArray head = out.mid(pos, end - pos);
        const qsizetype at = head.indexOf("Content-Length: ");
        if (at < 0)
            return false;
        const qsizetype lineEnd = head.indexOf('\r', at);
        bool ok = false;
        const qsizetype length = head.mid(at + 16, lineEnd < 0 ? -1 : lineEnd - at - 16).toLongLong(&ok);
        if (!ok || length < 0)
            return false;
        pos = end + 4;
        // A HEAD answer has no body: then the next answer (or nothing) follows at once.
        if (pos + length <= out.size() && (pos + length == out.size() || out.mid(pos + length).startsWith("HTTP/1.1 ")))
            pos += length;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static int qtArgc = 1;
    static char *qtArgv[] = { (*argv)[0], nullptr };
    (void)argc;
    new QCoreApplication(qtArgc, qtArgv); // for the connection's timer and queued calls; lives on
    QLoggingCategory::setFilterRules(QStringLiteral("*.debug=false\n*.info=false\n*.warning=false"));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const auto pages = std::make_shared<StatusPages>(std::make_shared<NodeIntrospection>());
    if (size < 1)
        return 0;
    quint32 seed = data[0] * 2654435761u + 7;
    const QByteArrayView input(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));

    // The first read comes with the connection (what the server read to tell HTTP from RPC).
    std::deque<QByteArray> reads;
    for (qsizetype pos = 0; pos < input.size();) {
        seed = seed * 1103515245u + 12345u;
        const qsizetype n = qMin<qsizetype>(input.size() - pos, 1 + (seed >> 8) % ((seed & 0x10000) ? 512 : 9));
        reads.push_back(input.sliced(pos, n).toByteArray());
        pos += n;
    }
    QByteArray received;
    if (!reads.empty()) {
        received = reads.front();
        reads.pop_front();
    }
    const int rounds = int(reads.size()) + 1000;
    QByteArray written;
    QPointer<MemoryStream> stream = new MemoryStream(std::move(reads), seed, &written);
    QPointer<HttpConnection> connection = new HttpConnection(stream, received, pages, 1000, nullptr);

    for (int round = 0; connection && round < rounds; ++round) {
        QCoreApplication::sendPostedEvents();
        if (!stream)
            break;
        stream->notifyWritable();
        stream->notifyReadable();
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    }
    if (connection) {
        // Nothing more comes, everything was taken: still open is a connection that hangs.
        fprintf(stderr, "the HTTP connection neither answered nor closed\n");
        std::abort();
    }
    if (!wellFormed(written)) {
        fprintf(stderr, "malformed answer:\n%s\n", written.constData());
        std::abort();
    }
    return 0;
}
