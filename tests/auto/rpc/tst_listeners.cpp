// SPDX-License-Identifier: Apache-2.0
// The listeners of tcp:// and unix:// on their own, with real sockets in this process: the
// ports and files they take, the errors they give, and that running out of descriptors pauses
// accepting, without spinning, instead of ending it. Conditions are waited for with
// deadlines, never slept through.
#include <tomato/transport/tcptransport_p.h>
#include <tomato/transport/unixtransport_p.h>

#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtTest/QTest>

#include <algorithm>
#include <cerrno>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using namespace Tomato;

namespace {

constexpr int Deadline = 5000; // ms: far more than a loopback connection needs

// The descriptors a listener handed on, closed with the test.
struct Accepted
{
    ~Accepted()
    {
        for (const int fd : fds)
            ::close(fd);
    }
    Listener::AcceptHandler handler()
    {
        return [this](qintptr fd) { fds.push_back(int(fd)); };
    }
    std::vector<int> fds;
};

// Client sockets, closed with the test.
struct Clients
{
    ~Clients()
    {
        for (const int fd : fds)
            ::close(fd);
    }
    // A non-blocking connection to a TCP port on the loopback of `family`: its descriptor, or -1.
    int connectTcp(int family, quint16 port)
    {
        const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        fds.push_back(fd);
        sockaddr_storage addr{};
        socklen_t length = 0;
        if (family == AF_INET) {
            auto *in = reinterpret_cast<sockaddr_in *>(&addr);
            in->sin_family = AF_INET;
            in->sin_port = htons(port);
            in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            length = sizeof(sockaddr_in);
        } else {
            auto *in6 = reinterpret_cast<sockaddr_in6 *>(&addr);
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(port);
            in6->sin6_addr = in6addr_loopback;
            length = sizeof(sockaddr_in6);
        }
        if (::connect(fd, reinterpret_cast<const sockaddr *>(&addr), length) != 0 && errno != EINPROGRESS)
            return -1;
        return fd;
    }
    // A connection to a Unix socket file: its descriptor, or -1 (and errno).
    int connectUnix(const QString &path)
    {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        fds.push_back(fd);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        qstrncpy(addr.sun_path, QFile::encodeName(path).constData(), sizeof(addr.sun_path));
        return ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) == 0 ? fd : -1;
    }
    std::vector<int> fds;
};

// Connects to a TCP port on 127.0.0.1 and lets go: 0, or the errno of the failure.
int connectError(quint16 port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) == 0 ? 0 : errno;
    ::close(fd);
    return rc;
}

// Whether the server side of a client's connection has ended it (a FIN or a reset).
bool serverEnded(int client)
{
    char byte = 0;
    const ssize_t n = ::recv(client, &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

// The local port of a socket: which client an accepted descriptor's peer is.
quint16 localPort(int fd)
{
    sockaddr_storage addr{};
    socklen_t length = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &length) != 0)
        return 0;
    return addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6 *>(&addr)->sin6_port)
                                      : ntohs(reinterpret_cast<const sockaddr_in *>(&addr)->sin_port);
}

quint16 peerPort(int fd)
{
    sockaddr_storage addr{};
    socklen_t length = sizeof(addr);
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&addr), &length) != 0)
        return 0;
    return addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6 *>(&addr)->sin6_port)
                                      : ntohs(reinterpret_cast<const sockaddr_in *>(&addr)->sin_port);
}

// The CPU time this process has used, user and system, in microseconds.
qint64 cpuMicroseconds()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return (qint64(usage.ru_utime.tv_sec) + usage.ru_stime.tv_sec) * 1000000 + usage.ru_utime.tv_usec
        + usage.ru_stime.tv_usec;
}

// Fills this process's descriptor table: a soft RLIMIT_NOFILE just above the descriptors
// open now, and every number below it taken with dup(). The destructor gives it all back,
// whether the test passed or not.
class DescriptorSqueeze
{
public:
    DescriptorSqueeze()
    {
        ::getrlimit(RLIMIT_NOFILE, &m_saved);
        int highest = 0;
        const QStringList open = QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files | QDir::System);
        for (const QString &name : open)
            highest = qMax(highest, name.toInt());
        rlimit lowered = m_saved;
        lowered.rlim_cur = rlim_t(highest) + 16;
        if (::setrlimit(RLIMIT_NOFILE, &lowered) != 0)
            return;
        m_lowered = true;
        for (;;) {
            const int fd = ::dup(STDERR_FILENO);
            if (fd < 0) {
                m_full = errno == EMFILE;
                break;
            }
            m_dups.push_back(fd);
        }
    }
    ~DescriptorSqueeze() { release(); }
    bool isFull() const { return m_full; }
    void release()
    {
        for (const int fd : m_dups)
            ::close(fd);
        m_dups.clear();
        if (m_lowered)
            ::setrlimit(RLIMIT_NOFILE, &m_saved);
        m_lowered = false;
        m_full = false;
    }

private:
    rlimit m_saved{};
    std::vector<int> m_dups;
    bool m_lowered = false;
    bool m_full = false;
};

} // namespace

class tst_Listeners : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();

    void aTcpListenerOnPortZeroReportsItsPortAndAccepts();
    void aTcpPortInUseIsAnErrorSayingWhy();
    void aTcpListenerWorksOnIPv6Loopback();
    void theAnyAddressTakesIPv4AndIPv6();
    void runningOutOfDescriptorsPausesAcceptingWithoutSpinning();

    void unixSocketFilesCarryTheirAccessInTheirMode_data();
    void unixSocketFilesCarryTheirAccessInTheirMode();
    void aStaleUnixSocketFileIsReplaced();
    void aFileThatIsNotASocketIsRefused();
    void aUnixSocketAnotherListenerHoldsIsRefused();
    void closeRemovesTheUnixSocketFile();
    void aUnixSocketPathTooLongForTheSystemIsAClearError();

private:
    QString socketPath(const QString &name) const { return m_dir.filePath(name); }
    QTemporaryDir m_dir;
};

void tst_Listeners::initTestCase()
{
    QVERIFY(m_dir.isValid());
}

// ---- tcp -----------------------------------------------------------------------------------

void tst_Listeners::aTcpListenerOnPortZeroReportsItsPortAndAccepts()
{
    Accepted accepted;
    TcpListener listener(QStringLiteral("tcp"), accepted.handler());
    QString error;
    QVERIFY2(listener.listen(Endpoint(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"), 0), &error),
             qPrintable(error));
    const Endpoint bound = listener.address();
    QCOMPARE(bound.scheme(), QStringLiteral("tcp"));
    QCOMPARE(bound.host(), QStringLiteral("127.0.0.1"));
    QVERIFY(bound.port() != 0);

    Clients clients;
    for (int i = 0; i < 3; ++i)
        QVERIFY(clients.connectTcp(AF_INET, bound.port()) >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(accepted.fds.size(), size_t(3), Deadline);
    for (size_t i = 0; i < 3; ++i)
        QCOMPARE(peerPort(accepted.fds[i]), localPort(clients.fds[i]));
    QCOMPARE(listener.exhaustions(), quint64(0));

    listener.close();
    QCOMPARE(connectError(bound.port()), ECONNREFUSED);
}

void tst_Listeners::aTcpPortInUseIsAnErrorSayingWhy()
{
    Accepted accepted;
    TcpListener first(QStringLiteral("tcp"), accepted.handler());
    QString error;
    QVERIFY2(first.listen(Endpoint(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"), 0), &error), qPrintable(error));
    const quint16 port = first.address().port();

    TcpListener second(QStringLiteral("tcp"), accepted.handler());
    QVERIFY(!second.listen(Endpoint(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"), port), &error));
    QCOMPARE(error, QStringLiteral("cannot listen on tcp://127.0.0.1:%1: Address already in use").arg(port));

    QVERIFY(!second.listen(Endpoint(QStringLiteral("tcp"), QStringLiteral("example.org"), port), &error));
    QCOMPARE(error, QStringLiteral("cannot listen on tcp://example.org:%1: 'example.org' is not an IP address").arg(port));

    // And the port is free for a successor once the first lets go (SO_REUSEADDR).
    first.close();
    QVERIFY2(second.listen(Endpoint(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"), port), &error), qPrintable(error));
}

namespace {
bool hasIPv6Loopback()
{
    const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_loopback;
    const bool ok = ::bind(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok;
}
} // namespace

void tst_Listeners::aTcpListenerWorksOnIPv6Loopback()
{
    if (!hasIPv6Loopback())
        QSKIP("this machine has no IPv6 loopback (::1)");
    Accepted accepted;
    TcpListener listener(QStringLiteral("tcp"), accepted.handler());
    QString error;
    QVERIFY2(listener.listen(Endpoint(QStringLiteral("tcp"), QStringLiteral("::1"), 0), &error), qPrintable(error));
    QCOMPARE(listener.address().host(), QStringLiteral("::1"));
    QVERIFY(listener.address().toString().startsWith(QLatin1String("tcp://[::1]:")));
    Clients clients;
    QVERIFY(clients.connectTcp(AF_INET6, listener.address().port()) >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(accepted.fds.size(), size_t(1), Deadline);
}

void tst_Listeners::theAnyAddressTakesIPv4AndIPv6()
{
    if (!hasIPv6Loopback())
        QSKIP("this machine has no IPv6 loopback (::1)");
    Accepted accepted;
    TcpListener listener(QStringLiteral("tcp"), accepted.handler());
    QString error;
    QVERIFY2(listener.listen(Endpoint(QStringLiteral("tcp"), QStringLiteral("::"), 0), &error), qPrintable(error));
    QCOMPARE(listener.address().host(), QStringLiteral("::"));
    Clients clients;
    QVERIFY(clients.connectTcp(AF_INET, listener.address().port()) >= 0);
    QVERIFY(clients.connectTcp(AF_INET6, listener.address().port()) >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(accepted.fds.size(), size_t(2), Deadline);
}

void tst_Listeners::runningOutOfDescriptorsPausesAcceptingWithoutSpinning()
{
    Accepted accepted;
    TcpListener listener(QStringLiteral("tcp"), accepted.handler());
    QString error;
    QVERIFY2(listener.listen(Endpoint(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"), 0), &error), qPrintable(error));
    const quint16 port = listener.address().port();

    // Connections waiting in the backlog (the event loop has not run since they connected).
    constexpr int Waiting = 20;
    Clients clients;
    for (int i = 0; i < Waiting; ++i)
        QVERIFY(clients.connectTcp(AF_INET, port) >= 0);

    // UndefinedBehaviorSanitizer checks a virtual call's type the first time it sees it by
    // probing memory with pipe(), which fails while the table is full: the warning's QDebug
    // stream goes through once before, so that its check is cached.
    QTest::ignoreMessage(QtWarningMsg, "before the squeeze");
    qWarning() << "before the squeeze";
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("^out of descriptors \\(Too many open files\\) accepting on "
                                                           "tcp://127\\.0\\.0\\.1:%1: refusing connections").arg(port)));
    {
        DescriptorSqueeze squeeze;
        QVERIFY2(squeeze.isFull(), "could not fill the descriptor table");

        // The thread's event loop for 300 ms, blocked in poll() unless something is due: a
        // listener that spins on the readable socket burns all of it.
        QTimer wakeAtTheEnd;
        wakeAtTheEnd.start(300);
        const qint64 cpuBefore = cpuMicroseconds();
        QElapsedTimer elapsed;
        elapsed.start();
        while (elapsed.elapsed() < 300)
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
        const qint64 cpuUsed = cpuMicroseconds() - cpuBefore;

        QVERIFY2(cpuUsed < 100000, qPrintable(QStringLiteral("%1 ms of CPU in 300 ms").arg(cpuUsed / 1000)));
        QVERIFY(accepted.fds.empty());
        const quint64 exhaustions = listener.exhaustions();
        QVERIFY(exhaustions > 0);
        // Backing off: a handful of tries in 300 ms (10 + 20 + 40 + 80 + 160 ms), not thousands.
        QVERIFY2(exhaustions <= 8, qPrintable(QString::number(exhaustions)));
        // Each try ended one waiting connection, the oldest first, so that its peer knows.
        for (int i = 0; i < Waiting; ++i)
            QCOMPARE(serverEnded(clients.fds[size_t(i)]), quint64(i) < exhaustions);
    } // descriptors free again

    const int late = clients.connectTcp(AF_INET, port);
    QVERIFY(late >= 0);
    const quint16 latePort = localPort(late);
    QTRY_VERIFY_WITH_TIMEOUT(std::any_of(accepted.fds.begin(), accepted.fds.end(),
                                         [&](int fd) { return peerPort(fd) == latePort; }),
                             Deadline);
    // Those that waited and were not refused are accepted too.
    QCOMPARE(accepted.fds.size(), size_t(Waiting) - size_t(listener.exhaustions()) + 1);
}

// ---- unix ----------------------------------------------------------------------------------

void tst_Listeners::unixSocketFilesCarryTheirAccessInTheirMode_data()
{
    QTest::addColumn<UnixListener::Access>("access");
    QTest::addColumn<uint>("mode");
    QTest::newRow("user") << UnixListener::Access::User << 0700u;
    QTest::newRow("group") << UnixListener::Access::Group << 0770u;
    QTest::newRow("world") << UnixListener::Access::World << 0777u;
    // Too long for the socket in its private directory, not for the file itself.
    QTest::newRow("user-long-path") << UnixListener::Access::User << 0700u;
}

void tst_Listeners::unixSocketFilesCarryTheirAccessInTheirMode()
{
    QFETCH(UnixListener::Access, access);
    QFETCH(uint, mode);
    QString path = socketPath(QLatin1String(QTest::currentDataTag()) + QLatin1String(".sock"));
    if (path.contains(QLatin1String("long"))) {
        const qsizetype room = qsizetype(sizeof(sockaddr_un::sun_path)) - 1 - path.size();
        QVERIFY(room > 0);
        path.insert(path.size() - 5, QString(room, QLatin1Char('x'))); // exactly as long as fits
    }
    Accepted accepted;
    UnixListener listener(access, accepted.handler());
    QString error;
    QVERIFY2(listener.listen(Endpoint::unixSocket(path), &error), qPrintable(error));
    QCOMPARE(listener.address(), Endpoint::unixSocket(path));
    struct stat st{};
    QCOMPARE(::stat(QFile::encodeName(path).constData(), &st), 0);
    QVERIFY(S_ISSOCK(st.st_mode));
    QCOMPARE(uint(st.st_mode & 0777), mode);
    // Nothing left of the private directory it was made in.
    QCOMPARE(QDir(m_dir.path()).entryList({QFileInfo(path).fileName() + QLatin1String(".*")},
                                          QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System | QDir::Hidden),
             QStringList());

    Clients clients;
    QVERIFY(clients.connectUnix(path) >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(accepted.fds.size(), size_t(1), Deadline);
}

void tst_Listeners::aStaleUnixSocketFileIsReplaced()
{
    const QString path = socketPath(QStringLiteral("stale.sock"));
    // A socket file whose process is gone: bound, never listened on, closed, left behind.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    qstrncpy(addr.sun_path, QFile::encodeName(path).constData(), sizeof(addr.sun_path));
    QCOMPARE(::bind(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)), 0);
    ::close(fd);

    Accepted accepted;
    UnixListener listener(UnixListener::Access::User, accepted.handler());
    QString error;
    QVERIFY2(listener.listen(Endpoint::unixSocket(path), &error), qPrintable(error));
    Clients clients;
    QVERIFY(clients.connectUnix(path) >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(accepted.fds.size(), size_t(1), Deadline);
}

void tst_Listeners::aFileThatIsNotASocketIsRefused()
{
    const QString path = socketPath(QStringLiteral("notes.txt"));
    QFile notes(path);
    QVERIFY(notes.open(QIODevice::WriteOnly));
    notes.write("keep me");
    notes.close();

    Accepted accepted;
    UnixListener listener(UnixListener::Access::User, accepted.handler());
    QString error;
    QVERIFY(!listener.listen(Endpoint::unixSocket(path), &error));
    QCOMPARE(error, QStringLiteral("cannot listen on unix://%1: the file exists and is not a socket").arg(path));
    QVERIFY(notes.open(QIODevice::ReadOnly));
    QCOMPARE(notes.readAll(), QByteArray("keep me"));
}

void tst_Listeners::aUnixSocketAnotherListenerHoldsIsRefused()
{
    const QString path = socketPath(QStringLiteral("live.sock"));
    Accepted accepted;
    UnixListener first(UnixListener::Access::User, accepted.handler());
    QString error;
    QVERIFY2(first.listen(Endpoint::unixSocket(path), &error), qPrintable(error));

    UnixListener second(UnixListener::Access::User, accepted.handler());
    QVERIFY(!second.listen(Endpoint::unixSocket(path), &error));
    QCOMPARE(error, QStringLiteral("cannot listen on unix://%1: another process is listening there").arg(path));
    // The one refused leaves the file alone, even as it goes.
    second.close();
    Clients clients;
    QVERIFY(clients.connectUnix(path) >= 0);
    // The second's probe (a connection, to see whether anyone listens), then this client.
    QTRY_COMPARE_WITH_TIMEOUT(accepted.fds.size(), size_t(2), Deadline);
}

void tst_Listeners::closeRemovesTheUnixSocketFile()
{
    const QString path = socketPath(QStringLiteral("gone.sock"));
    Accepted accepted;
    {
        UnixListener listener(UnixListener::Access::User, accepted.handler());
        QString error;
        QVERIFY2(listener.listen(Endpoint::unixSocket(path), &error), qPrintable(error));
        QVERIFY(QFile::exists(path));
        listener.close();
        QVERIFY(!QFile::exists(path));

        // And so does the destructor, of one never closed.
        QVERIFY2(listener.listen(Endpoint::unixSocket(path), &error), qPrintable(error));
        QVERIFY(QFile::exists(path));
    }
    QVERIFY(!QFile::exists(path));
}

void tst_Listeners::aUnixSocketPathTooLongForTheSystemIsAClearError()
{
    const QString path = socketPath(QString(120, QLatin1Char('y')));
    Accepted accepted;
    UnixListener listener(UnixListener::Access::User, accepted.handler());
    QString error;
    QVERIFY(!listener.listen(Endpoint::unixSocket(path), &error));
    QCOMPARE(error, QStringLiteral("cannot listen on unix://%1: the socket path is %2 bytes long; a Unix socket "
                                   "address holds at most %3")
                        .arg(path)
                        .arg(QFile::encodeName(path).size())
                        .arg(sizeof(sockaddr_un::sun_path) - 1));
    QVERIFY(!QFile::exists(path));
}

QTEST_GUILESS_MAIN(tst_Listeners)
#include "tst_listeners.moc"
