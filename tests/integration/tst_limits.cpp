// SPDX-License-Identifier: Apache-2.0
// A server's bounds against hostile or broken peers (docs/RELIABILITY.md), tried from outside on
// a real tomato-sample-server process: a memory budget for unfinished frames, deadlines for
// slow and silent senders, connection limits, and descriptor exhaustion. The server's memory
// (VmRSS), descriptors and CPU time are read from /proc.
#include "echoservice_stub.h"
#include "sampleserver.h"

#include <tomato/client/rpcclient.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QtEndian>
#include <QtTest/QTest>

#include <cerrno>
#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Tomato;

namespace {

// One tomato-sample-server without a registry on 127.0.0.1, with extra keys and, optionally, a
// descriptor limit (soft and hard) set in the child before it starts.
class Server
{
public:
    explicit Server(const QStringList &keys, int descriptorLimit = 0)
    {
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        if (descriptorLimit > 0) {
            m_process.setChildProcessModifier([descriptorLimit] {
                const rlimit r{rlim_t(descriptorLimit), rlim_t(descriptorLimit)};
                ::setrlimit(RLIMIT_NOFILE, &r);
            });
        }
        QStringList args{QStringLiteral("--tomato-rpc.host=127.0.0.1"), QStringLiteral("--tomato-rpc.port=0")};
        for (const QString &k : keys)
            args << QStringLiteral("--tomato-rpc.") + k;
        m_process.start(QStringLiteral(SAMPLE_SERVER), args);
        m_port = waitForSampleServerReady(m_process);
    }
    ~Server()
    {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
    quint16 port() const { return m_port; }
    pid_t pid() const { return pid_t(m_process.processId()); }
    bool running() const { return m_process.state() == QProcess::Running; }

    qint64 rssKb() const
    {
        QFile f(QStringLiteral("/proc/%1/status").arg(pid()));
        if (!f.open(QIODevice::ReadOnly))
            return -1;
        const auto m = QRegularExpression(QStringLiteral("VmRSS:\\s+(\\d+)")).match(QString::fromLatin1(f.readAll()));
        return m.hasMatch() ? m.captured(1).toLongLong() : -1;
    }
    // User + system CPU time, in seconds.
    double cpuSeconds() const
    {
        QFile f(QStringLiteral("/proc/%1/stat").arg(pid()));
        if (!f.open(QIODevice::ReadOnly))
            return -1;
        const QByteArray stat = f.readAll();
        const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
        return double(fields.value(11).toLongLong() + fields.value(12).toLongLong()) / double(::sysconf(_SC_CLK_TCK));
    }
    int descriptors() const
    {
        DIR *dir = ::opendir(QStringLiteral("/proc/%1/fd").arg(pid()).toLocal8Bit().constData());
        if (!dir)
            return -1;
        int n = 0;
        while (dirent *e = ::readdir(dir))
            n += e->d_name[0] != '.';
        ::closedir(dir);
        return n;
    }

private:
    QProcess m_process;
    quint16 m_port = 0;
};

// A raw TCP connection driven by hand, non-blocking, for the attacks.
class Raw
{
public:
    explicit Raw(quint16 port)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (m_fd >= 0 && ::connect(m_fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0 && errno != EINPROGRESS) {
            ::close(m_fd);
            m_fd = -1;
        }
    }
    ~Raw()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    Raw(const Raw &) = delete;
    Raw &operator=(const Raw &) = delete;
    bool isOpen() const { return m_fd >= 0; }

    // Sends what the kernel takes now; returns how much that was.
    qint64 send(const QByteArray &bytes)
    {
        const ssize_t n = ::send(m_fd, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
        return n < 0 ? 0 : n;
    }
    // Sends all of it within the deadline, or false.
    bool sendAll(QByteArray bytes, int ms = 5000)
    {
        QDeadlineTimer deadline(ms);
        while (!bytes.isEmpty() && !deadline.hasExpired()) {
            const qint64 n = send(bytes);
            bytes.remove(0, n);
            if (n == 0)
                QTest::qWait(2);
        }
        return bytes.isEmpty();
    }
    // Reads until the peer closes or the deadline; `closed` says whether it did.
    QByteArray readUntilClosed(int ms, bool *closed)
    {
        QByteArray in;
        QDeadlineTimer deadline(ms);
        *closed = false;
        while (!deadline.hasExpired()) {
            char buf[4096];
            const ssize_t n = ::recv(m_fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n > 0) {
                in.append(buf, n);
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                *closed = true;
                break;
            }
            QTest::qWait(5);
        }
        return in;
    }
    // Reads what arrives within `ms` (the peer may stay open).
    QByteArray readFor(int ms, int atLeast = 1)
    {
        QByteArray in;
        QDeadlineTimer deadline(ms);
        while (!deadline.hasExpired() && in.size() < atLeast) {
            char buf[4096];
            const ssize_t n = ::recv(m_fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n > 0)
                in.append(buf, n);
            else if (n == 0)
                break;
            else
                QTest::qWait(2);
        }
        return in;
    }

private:
    int m_fd = -1;
};

// A frame header (docs/PROTOCOL.md): magic, length, version, extension length, command,
// serialization, message id. `total` is the whole frame's size.
QByteArray header(qint64 total, quint16 command = 1, quint32 extLen = 0, quint64 id = 1)
{
    QByteArray h(24, '\0');
    auto *p = reinterpret_cast<uchar *>(h.data());
    p[0] = 0xAC;
    qToBigEndian<quint32>(quint32(total - 5), p + 1);
    qToBigEndian<quint32>(1, p + 5);
    qToBigEndian<quint32>(extLen, p + 9);
    qToBigEndian<quint16>(command, p + 13);
    p[15] = 0;
    qToBigEndian<quint64>(id, p + 16);
    return h;
}

QByteArray keepAlive(quint64 id)
{
    return header(24, 3, 0, id);
}

// One HTTP GET on a fresh connection: the whole answer, or empty.
QByteArray httpGet(quint16 port, const QByteArray &path)
{
    Raw c(port);
    if (!c.sendAll("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        return {};
    bool closed = false;
    return c.readUntilClosed(5000, &closed);
}

// A counter's value from the server's /metrics page (the first sample of that name).
double metric(quint16 port, const QByteArray &sample)
{
    const QByteArray page = httpGet(port, "/metrics");
    for (const QByteArray &line : page.split('\n')) {
        if (line.startsWith(sample + ' '))
            return line.mid(sample.size() + 1).toDouble();
    }
    return -1;
}

// A port nothing listens on now.
quint16 freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// Raises this process's descriptor limit to `n` (the floods need more than the default 1,024).
bool raiseDescriptorLimit(rlim_t n)
{
    rlimit r{};
    ::getrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_cur >= n)
        return true;
    r.rlim_cur = n;
    if (r.rlim_max < n)
        r.rlim_max = n; // root may
    return ::setrlimit(RLIMIT_NOFILE, &r) == 0;
}

} // namespace

class tst_Limits : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void stalledLargeFramesStayWithinTheBudget();
    void starvedConnectionsEvictTheLargestHolder();
    void slowLorisIsCutAtTheFrameDeadline();
    void aWaitForRoomIsBoundedByTheFrameDeadline();
    void silentConnectionIsClosedAtTheFirstByteDeadline();
    void connectionsBeyondTheLimitsAreRefused();
    void descriptorExhaustionNeitherCrashesNorSpins();
    void theDerivedLimitKeepsDescriptorsFree();

private:
    // `n` echo calls, `parallel` at a time; how many succeeded. *firstError: the first failure.
    static int echoCalls(Sample::EchoServiceStub &echo, int n, int parallel, QString *firstError);
    // Calls until one is answered (refused connections fail fast) or `ms` pass.
    static bool answeredWithin(Sample::EchoServiceStub &echo, int ms, QString *lastError);
};

void tst_Limits::initTestCase()
{
    QVERIFY2(raiseDescriptorLimit(4096), "cannot raise this process's descriptor limit to 4096");
}

int tst_Limits::echoCalls(Sample::EchoServiceStub &echo, int n, int parallel, QString *firstError)
{
    int ok = 0;
    for (int done = 0; done < n;) {
        QList<QFuture<QString>> batch;
        for (int i = 0; i < parallel && done + i < n; ++i)
            batch.append(echo.echoAsync(QStringLiteral("call %1").arg(done + i)));
        for (int i = 0; i < batch.size(); ++i) {
            try {
                // The sample server's echo prefixes its identity: "[demo-rpc-service@...] call 7".
                ok += batch[i].result().endsWith(QStringLiteral("] call %1").arg(done + i));
            } catch (const RpcError &e) {
                if (firstError->isEmpty())
                    *firstError = e.toString();
            }
        }
        done += int(batch.size());
    }
    return ok;
}

bool tst_Limits::answeredWithin(Sample::EchoServiceStub &echo, int ms, QString *lastError)
{
    QDeadlineTimer deadline(ms);
    while (!deadline.hasExpired()) {
        lastError->clear();
        if (echoCalls(echo, 1, 1, lastError) == 1)
            return true;
        QTest::qWait(50);
    }
    return false;
}

// The attack of docs/RELIABILITY.md, scaled: 300 connections each announce a frame just under max-frame-bytes,
// send up to 1 MiB of it, and stall. With a 64 MiB budget (and no eviction, to measure the bound
// itself), the server's memory stays under its start + the budget + a stated overhead, while a
// separate client's 1,000 calls all succeed during the attack (small frames keep the last eighth
// of the budget to themselves).
void tst_Limits::stalledLargeFramesStayWithinTheBudget()
{
    constexpr qint64 Budget = 64 << 20;
    Server server({QStringLiteral("max-buffered-bytes=%1").arg(Budget), QStringLiteral("max-buffered-wait-ms=0"),
                   QStringLiteral("frame-read-timeout-ms=0")});
    QVERIFY(server.port());
    RpcConfig config;
    RpcClient client(config);
    auto echo = client.createDirectStub<Sample::EchoService>(QStringLiteral("127.0.0.1"), server.port());
    QString error;
    QCOMPARE(echoCalls(*echo, 10, 10, &error), 10); // warmed up: threads, pools and connection exist
    const qint64 before = server.rssKb();

    std::vector<std::unique_ptr<Raw>> attackers;
    const QByteArray chunk(64 << 10, 'x');
    qint64 peak = before;
    for (int i = 0; i < 300; ++i) {
        attackers.push_back(std::make_unique<Raw>(server.port()));
        QTest::qWait(0);
    }
    for (auto &a : attackers) { // connected by now (loopback), or sends fail and retry below
        a->sendAll(header((16 << 20) - 64), 2000);
    }
    // Each pushes up to 15 MiB of its frame's body, as far as the server reads it (the kernel
    // buffers the rest): until a few rounds in a row move nothing.
    std::vector<qint64> sent(attackers.size(), 0);
    for (int idle = 0; idle < 3;) {
        qint64 moved = 0;
        for (size_t i = 0; i < attackers.size(); ++i) {
            if (sent[i] < (15 << 20)) {
                const qint64 n = attackers[i]->send(chunk);
                sent[i] += n;
                moved += n;
            }
        }
        peak = qMax(peak, server.rssKb());
        idle = moved == 0 ? idle + 1 : 0;
        QTest::qWait(moved == 0 ? 50 : 0);
    }
    qint64 offered = 0;
    for (const qint64 n : sent)
        offered += n;
    qInfo("the attackers got %lld MiB into the sockets", offered >> 20);
    error.clear();
    const int ok = echoCalls(*echo, 1000, 20, &error);
    peak = qMax(peak, server.rssKb());
    QVERIFY2(ok == 1000, qPrintable(QStringLiteral("%1 of 1000 calls succeeded during the attack; first error: %2").arg(ok).arg(error)));
    // Overhead beyond the budget: per connection its objects, one read chunk (32 KiB) and the
    // allocator's slack: 300 x 64 KiB, plus 16 MiB for everything else.
    const qint64 bound = before + Budget / 1024 + 300 * 64 + 16 * 1024;
    qInfo("server RSS: %lld KiB before, %lld KiB peak with 300 stalled 16 MiB frames; bound %lld KiB",
          before, peak, bound);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // AddressSanitizer keeps freed memory in quarantine and adds shadow memory, ThreadSanitizer
    // adds shadow memory and its history: their RSS says nothing about the budget. The plain
    // builds assert the bound; here the calls above must still all succeed and the counters
    // below hold.
    Q_UNUSED(bound);
#else
    QVERIFY2(peak <= bound, qPrintable(QStringLiteral("peak RSS %1 KiB over %2 KiB").arg(peak).arg(bound)));
#endif
    QVERIFY(metric(server.port(), "tomato_server_buffer_waits_total") > 0);
    QVERIFY(metric(server.port(), "tomato_server_buffered_bytes") <= double(Budget));
    QVERIFY(server.running());
}

// A connection that waits longer than max-buffered-wait-ms for room makes the server close the
// connection holding the most, with an Error frame saying why; the waiter then goes on.
void tst_Limits::starvedConnectionsEvictTheLargestHolder()
{
    Server server({QStringLiteral("max-buffered-bytes=%1").arg(16 << 20), QStringLiteral("max-buffered-wait-ms=200"),
                   QStringLiteral("frame-read-timeout-ms=0")});
    QVERIFY(server.port());
    // The hog: a 13 MiB frame announced (within 7/8 of 16 MiB), 1 MiB of it sent, then nothing.
    Raw hog(server.port());
    QVERIFY(hog.sendAll(header(13 << 20) + QByteArray(1 << 20, 'h')));
    // A smaller holder that must be left alone: one eviction frees enough.
    Raw small(server.port());
    QVERIFY(small.sendAll(header(100 << 10) + QByteArray(10 << 10, 's')));
    // Both are read before the large call comes: the hog's frame reserved whole, the small one's bytes held.
    QDeadlineTimer deadline(10000);
    while (metric(server.port(), "tomato_server_buffered_bytes") < double((13 << 20) + (10 << 10)) && !deadline.hasExpired())
        QTest::qWait(10);
    QVERIFY2(!deadline.hasExpired(), qPrintable(QString::number(metric(server.port(), "tomato_server_buffered_bytes"))));

    RpcConfig config;
    RpcClient client(config);
    auto echo = client.createDirectStub<Sample::EchoService>(QStringLiteral("127.0.0.1"), server.port());
    const QString big(2 << 20, QLatin1Char('b')); // a 4 MiB request in UTF-16, ~2 MiB encoded: waits for room
    CallOptions options;
    options.setTimeout(std::chrono::milliseconds(10000));
    QElapsedTimer took;
    took.start();
    QString answer;
    try {
        answer = echo->echoAsync(big, options).result();
    } catch (const RpcError &e) {
        QFAIL(qPrintable(e.toString()));
    }
    QVERIFY(answer.endsWith(big));
    QVERIFY2(took.elapsed() >= 200, "the large call went through without waiting: the hog did not hold the budget");

    bool closed = false;
    const QByteArray said = hog.readUntilClosed(5000, &closed);
    QVERIFY(closed);
    QVERIFY2(said.contains("code:216") && said.contains("max-buffered-bytes"), said.constData());
    QCOMPARE(small.readFor(100).size(), 0); // not evicted, nothing said
    QCOMPARE(metric(server.port(), "tomato_server_buffer_evictions_total"), 1.0);
}

// A frame that trickles in (one byte every 200 ms) is cut at frame-read-timeout-ms, with an
// Error frame; a client whose frames each arrive whole is never cut, however long it stays.
void tst_Limits::slowLorisIsCutAtTheFrameDeadline()
{
    Server server({QStringLiteral("frame-read-timeout-ms=1000")});
    QVERIFY(server.port());
    RpcConfig config;
    RpcClient client(config);
    auto echo = client.createDirectStub<Sample::EchoService>(QStringLiteral("127.0.0.1"), server.port());

    Raw loris(server.port());
    QElapsedTimer took;
    took.start();
    QVERIFY(loris.sendAll(header(1000) + "x"));
    bool closed = false;
    QByteArray said;
    while (!closed && took.elapsed() < 10000) {
        loris.send("y");
        said += loris.readUntilClosed(200, &closed);
        QString error;
        QCOMPARE(echoCalls(*echo, 1, 1, &error), 1); // the honest client's frames arrive whole
    }
    QVERIFY2(closed, "the slow sender was never cut");
    QVERIFY2(took.elapsed() >= 1000, qPrintable(QStringLiteral("cut after %1 ms, before its deadline").arg(took.elapsed())));
    QVERIFY2(said.contains("code:216") && said.contains("frame-read-timeout-ms"), said.constData());
    QString error;
    QCOMPARE(echoCalls(*echo, 5, 5, &error), 5);
    QCOMPARE(metric(server.port(), "tomato_server_connections_timed_out_total{deadline=\"frame\"}"), 1.0);
}

// A connection waiting for room runs no deadline of its own (the server makes it wait), but the
// wait itself ends at frame-read-timeout-ms even when nobody can be evicted to make room.
void tst_Limits::aWaitForRoomIsBoundedByTheFrameDeadline()
{
    Server server({QStringLiteral("max-buffered-bytes=%1").arg(16 << 20), QStringLiteral("max-buffered-wait-ms=0"),
                   QStringLiteral("frame-read-timeout-ms=1000")});
    QVERIFY(server.port());
    // The hog asks for 1 MiB echoes and never reads them: its answers fill the budget (and
    // hold no frame that a deadline could cut).
    Raw hog(server.port());
    const QByteArray ext = "service:Sample%3A%3AEchoService&method:echo";
    const QByteArray body = "[\"" + QByteArray(1 << 20, 'h') + "\"]";
    for (quint64 id = 1; id <= 12; ++id)
        QVERIFY(hog.sendAll(header(24 + ext.size() + body.size(), 1, quint32(ext.size()), id).replace(15, 1, "\x01") + ext + body));
    QDeadlineTimer deadline(10000);
    while (metric(server.port(), "tomato_server_buffered_bytes") < double(3 << 20) && !deadline.hasExpired())
        QTest::qWait(10);
    QVERIFY2(!deadline.hasExpired(), qPrintable(QString::number(metric(server.port(), "tomato_server_buffered_bytes"))));
    Raw waiter(server.port());
    QVERIFY(waiter.sendAll(header(13 << 20) + QByteArray(64 << 10, 'w'))); // cannot fit beside the hog
    QElapsedTimer took;
    took.start();
    bool closed = false;
    const QByteArray said = waiter.readUntilClosed(10000, &closed);
    QVERIFY(closed);
    QVERIFY2(took.elapsed() >= 900, qPrintable(QString::number(took.elapsed())));
    QVERIFY2(said.contains("code:216") && said.contains("no%20room%20in%20max-buffered-bytes"), said.toHex().left(200).constData());
}

// A connection that says nothing is closed at first-byte-timeout-ms, long before the idle check.
void tst_Limits::silentConnectionIsClosedAtTheFirstByteDeadline()
{
    Server server({QStringLiteral("first-byte-timeout-ms=300"), QStringLiteral("server-idle-check-ms=600000")});
    QVERIFY(server.port());
    Raw silent(server.port());
    Raw talking(server.port());
    QVERIFY(talking.sendAll(keepAlive(7)));
    QCOMPARE(talking.readFor(5000, 24).size(), 24); // its KeepAliveResponse
    QElapsedTimer took;
    took.start();
    bool closed = false;
    const QByteArray said = silent.readUntilClosed(10000, &closed);
    QVERIFY(closed);
    QVERIFY(took.elapsed() < 10000);
    QVERIFY2(said.contains("code:216") && said.contains("first-byte-timeout-ms"), said.constData());
    QCOMPARE(talking.readFor(100).size(), 0); // the one that spoke stays open
    QVERIFY(talking.sendAll(keepAlive(8)));
    QCOMPARE(talking.readFor(5000, 24).size(), 24);
}

// Beyond max-connections a new connection gets an Error frame TooManyConnections (an HTTP
// request a 503) and is closed; the connections held keep working, and once some close the
// server accepts again. max-connections-per-host bounds one address the same way.
void tst_Limits::connectionsBeyondTheLimitsAreRefused()
{
    Server server({QStringLiteral("max-connections=20"), QStringLiteral("first-byte-timeout-ms=0")});
    QVERIFY(server.port());
    RpcConfig config;
    RpcClient client(config);
    auto echo = client.createDirectStub<Sample::EchoService>(QStringLiteral("127.0.0.1"), server.port());
    QString error;
    QCOMPARE(echoCalls(*echo, 1, 1, &error), 1); // connection 1

    std::vector<std::unique_ptr<Raw>> flood;
    for (int i = 0; i < 19; ++i) {
        flood.push_back(std::make_unique<Raw>(server.port()));
        QVERIFY(flood.back()->sendAll(keepAlive(quint64(i + 1))));
        QCOMPARE(flood.back()->readFor(5000, 24).size(), 24); // held: it is answered
    }
    Raw refused(server.port());
    bool closed = false;
    QByteArray said = refused.readUntilClosed(5000, &closed);
    QVERIFY(closed);
    QVERIFY2(said.contains("code:215") && said.contains("max-connections"), said.constData());
    const QByteArray http = httpGet(server.port(), "/health");
    QVERIFY2(http.startsWith("HTTP/1.1 503"), http.constData());

    QCOMPARE(echoCalls(*echo, 100, 10, &error), 100); // the held client is unaffected

    flood.resize(10); // nine leave
    QDeadlineTimer deadline(5000);
    std::unique_ptr<Raw> again;
    QByteArray answer;
    while (!deadline.hasExpired()) { // the server notices the closes on its I/O threads
        again = std::make_unique<Raw>(server.port());
        again->sendAll(keepAlive(99));
        answer = again->readFor(1000, 24);
        if (answer.size() >= 24 && !answer.contains("code:215"))
            break;
        QTest::qWait(20);
    }
    QVERIFY2(answer.size() == 24, answer.constData());
    QVERIFY(metric(server.port(), "tomato_server_connections_refused_total") >= 2);

    // Per host: three from 127.0.0.1 at most.
    Server perHost({QStringLiteral("max-connections-per-host=3")});
    QVERIFY(perHost.port());
    std::vector<std::unique_ptr<Raw>> three;
    for (int i = 0; i < 3; ++i) {
        three.push_back(std::make_unique<Raw>(perHost.port()));
        QVERIFY(three.back()->sendAll(keepAlive(1)));
        QCOMPARE(three.back()->readFor(5000, 24).size(), 24);
    }
    Raw fourth(perHost.port());
    said = fourth.readUntilClosed(5000, &closed);
    QVERIFY(closed);
    QVERIFY2(said.contains("code:215") && said.contains("max-connections-per-host"), said.constData());
}

// With its descriptor limit at 1,024 and max-connections set above it, a flood of 1,500
// connections runs the server out of descriptors: it neither crashes nor spins (its CPU time
// while the flood is held stays near zero), and a caller that comes after the flood is answered.
void tst_Limits::descriptorExhaustionNeitherCrashesNorSpins()
{
#if defined(__SANITIZE_ADDRESS__)
    // Our sanitizer build is ASan + UBSan, with UBSan's checks fatal (so unsuppressible).
    // UBSan checks a virtual call's dynamic type the first time it meets it by probing memory
    // through pipe(); in a process with no descriptor left that probe fails and it reports
    // "object has invalid vptr" for a valid object, and stops the server. The plain build runs
    // this test; the derived-limit test below (which never runs out) runs here too.
    QSKIP("a process out of descriptors makes UBSan report false vptr errors; run in the plain build");
#endif
    Server server({QStringLiteral("max-connections=100000"), QStringLiteral("first-byte-timeout-ms=0")}, 1024);
    QVERIFY(server.port());
    std::vector<std::unique_ptr<Raw>> flood;
    for (int i = 0; i < 1500; ++i)
        flood.push_back(std::make_unique<Raw>(server.port()));
    // Wait until the server holds what it can (its descriptor count stops growing near the limit).
    QDeadlineTimer deadline(20000);
    int held = 0;
    while (!deadline.hasExpired()) {
        held = server.descriptors();
        if (held >= 1000)
            break;
        QTest::qWait(20);
    }
    QVERIFY2(held >= 1000, qPrintable(QStringLiteral("the server holds only %1 descriptors").arg(held)));
    QTest::qWait(200);
    const double cpuBefore = server.cpuSeconds();
    QTest::qWait(2000); // the flood held: a spinning acceptor would burn these 2 s
    const double cpu = server.cpuSeconds() - cpuBefore;
    qInfo("server CPU while 1,500 connections are held at 1,024 descriptors: %.2f s in 2 s (%d descriptors)", cpu,
          server.descriptors());
    QVERIFY2(cpu < 0.3, qPrintable(QStringLiteral("%1 s of CPU in 2 s: the acceptor spins").arg(cpu)));
    QVERIFY(server.running());

    flood.clear(); // the flood goes away
    RpcConfig config;
    config.setTimeoutMs(10000);
    RpcClient client(config);
    auto echo = client.createDirectStub<Sample::EchoService>(QStringLiteral("127.0.0.1"), server.port());
    QString error;
    QVERIFY2(answeredWithin(*echo, 20000, &error), qPrintable(error));
    QVERIFY(metric(server.port(), "tomato_server_accept_exhaustions_total") > 0);
}

// By default max-connections is derived from the descriptor limit (1,024 here: 768), so a
// flood is refused with TooManyConnections before descriptors run out, one descriptor per
// connection, and a caller during the flood is told so at once.
void tst_Limits::theDerivedLimitKeepsDescriptorsFree()
{
    const quint16 statusPort = freePort(); // the RPC port refuses status requests too while full
    Server server({QStringLiteral("first-byte-timeout-ms=0"), QStringLiteral("status-port=%1").arg(statusPort)}, 1024);
    QVERIFY(server.port());
    std::vector<std::unique_ptr<Raw>> flood;
    for (int i = 0; i < 1500; ++i)
        flood.push_back(std::make_unique<Raw>(server.port()));
    QDeadlineTimer deadline(20000);
    double refused = 0;
    while (!deadline.hasExpired()) {
        refused = metric(statusPort, "tomato_server_connections_refused_total");
        if (refused >= 1500 - 768)
            break;
        QTest::qWait(50);
    }
    QVERIFY2(refused >= 1500 - 768, qPrintable(QStringLiteral("%1 refused").arg(refused)));
    QCOMPARE(metric(statusPort, "tomato_server_max_connections"), 768.0);
    QTest::qWait(300); // refused connections that have not spoken wait 200 ms for their first bytes
    const int descriptors = server.descriptors();
    QVERIFY2(descriptors <= 768 + 64, qPrintable(QStringLiteral("%1 descriptors for 768 connections").arg(descriptors)));
    const double cpuBefore = server.cpuSeconds();
    QTest::qWait(1000);
    QVERIFY(server.cpuSeconds() - cpuBefore < 0.2);

    RpcConfig config;
    RpcClient client(config);
    auto echo = client.createDirectStub<Sample::EchoService>(QStringLiteral("127.0.0.1"), server.port());
    QString error;
    QCOMPARE(echoCalls(*echo, 1, 1, &error), 0);
    QVERIFY2(error.contains(QLatin1String("TooManyConnections")), qPrintable(error));
    flood.clear();
    QVERIFY2(answeredWithin(*echo, 10000, &error), qPrintable(error));
}

QTEST_GUILESS_MAIN(tst_Limits)
#include "tst_limits.moc"
