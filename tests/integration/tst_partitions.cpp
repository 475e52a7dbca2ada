// SPDX-License-Identifier: Apache-2.0
// A real multi-host cluster on one machine, and its network failing under load.
//
// Every host is a network namespace with addresses of its own (netns.h), on two networks:
// "zk" (the registry's: the ZooKeeper members talk to each other and to everyone there) and
// "rpc" (where consumers call providers). A 3-node ZooKeeper ensemble (zk1..zk3, on zk only),
// 3 tomato-sample-server providers (p1..p3) listening on 0.0.0.0:4567 of their own host and
// advertising their rpc address, and 2 tomato-partition-consumer processes (c1, c2) each
// calling the idempotent Sample::EchoService::echo from 3 threads, each pausing 5 ms between
// calls (some 500 calls a second each; the calls made and failed are counted per phase).
// Then, one after the other, under that load:
//
//   1. p1's links are cut (its process runs on): the consumers take it out of rotation by
//      heartbeats, before its ZooKeeper session expires; its node goes when it does; restored,
//      it registers again and takes calls again.
//   2. c1 is cut off ZooKeeper only (its zk link): it keeps calling all three providers, its
//      session expires; restored, it reads the registry again.
//   3. The ZooKeeper leader is cut off: the other two elect a new one; the registrations stand
//      (or come back); restored, the old leader follows.
//   4. The zk network is partitioned: a follower, p3 and c2 on one side (a minority without
//      quorum), the rest on the other. p3 and c2 lose their sessions: p3's node goes, c1 stops
//      calling p3, c2 keeps calling what it knew (p3 included, which is healthy); healed,
//      p3 registers again and every consumer lists exactly the registered instances.
//
// Asserted throughout: no idempotent call fails (every phase leaves a healthy path: two
// providers reachable and registered, or the known ones reachable while the registry is not).
// Needs root, as CI runs it; elsewhere it skips, saying what is missing. Runs in about 40 s.
// TST_PARTITIONS_KEEP_LOGS=1 keeps every process's output; a failed run keeps it anyway.
#include "netns.h"
#include "zookeeperreader.h"

#include <tomato/registry/consumerinfo.h>
#include <tomato/registry/instanceinfo.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QDateTime>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QSet>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QTest>

#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <sys/prctl.h>

using namespace Tomato;

namespace {

const QString Service = QStringLiteral("demo-rpc-service");
const QString Stage = QStringLiteral("dev");
constexpr quint16 RpcPort = 4567;
constexpr quint16 ZkPort = 2181;

// Bounds. The consumers' heartbeat: a KeepAlive after KeepAliveMs of silence, the connection
// dropped at the tick after two unanswered ones, so a dead peer is found 3 to 4 intervals
// after it last spoke (docs/CLUSTER.md#heartbeats); we allow 4 intervals and a second of
// scheduling slack on a shared CI machine: 2.2 s.
constexpr int KeepAliveMs = 300;
constexpr int HeartbeatBoundMs = 4 * KeepAliveMs + 1000;
// Sessions (providers' and consumers'): 6 s. The ensemble expires a session between 2/3 of its
// timeout (the client pings every third of it, so the last ping may be that old when the link
// goes) and one tick (500 ms) past it after a cut: 4 s at the earliest, later than the
// heartbeat bound, so a provider that leaves rotation within that bound was not dropped by
// the registry. The watch then reaches the consumers within a second (docs/REGISTRY.md).
constexpr int SessionTimeoutMs = 6000;
constexpr int SessionBoundMs = SessionTimeoutMs + 500 + 2500;
// A provider or consumer back on the network registers again: its ZooKeeper client reaches a
// member on its next connect attempt, is told its session expired (or has opened a new one
// itself after the session timeout, docs/REGISTRY.md), and re-creates its node.
constexpr int ReRegisterBoundMs = 15000;

qint64 now()
{
    return QDateTime::currentMSecsSinceEpoch();
}

// Polls `condition` (turning the event loop) until it holds or `ms` have passed.
template<class F>
bool waitFor(F condition, int ms, int stepMs = 50)
{
    const QDeadlineTimer deadline(ms);
    while (!condition()) {
        if (deadline.hasExpired())
            return false;
        QTest::qWait(stepMs);
    }
    return true;
}

// Runs a helper that may fail the test (QVERIFY in it returns from it only), and returns from
// the test function if it did.
#define CHECK(call)                                                                                                    \
    do {                                                                                                               \
        call;                                                                                                          \
        if (QTest::currentTestFailed())                                                                                \
            return;                                                                                                    \
    } while (false)

// The last `bytes` of a file.
QString tail(const QString &path, int bytes = 3000)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll().right(bytes)) : QStringLiteral("(no %1)").arg(path);
}

// A process in a host's namespace, its output in files; killed (SIGKILL) with this test
// process even if the test itself is killed (PR_SET_PDEATHSIG survives `ip netns exec`'s exec).
class HostProcess
{
public:
    HostProcess(const NetLab &lab, const QString &host, const QString &program, const QStringList &arguments,
                const QString &logPrefix)
        : m_out(logPrefix + QStringLiteral(".out")), m_err(logPrefix + QStringLiteral(".err"))
    {
        m_process.setStandardOutputFile(m_out);
        m_process.setStandardErrorFile(m_err);
        m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
        m_process.start(NetLab::ipProgram(), lab.execArguments(host, program, arguments));
        m_process.waitForStarted(10000);
    }
    ~HostProcess() { kill(); }
    void kill()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.kill();
        m_process.waitForFinished(10000);
    }
    // Graceful: closes standard input (the consumer's signal to stop), then SIGTERM.
    void stop()
    {
        m_process.closeWriteChannel();
        if (!m_process.waitForFinished(8000)) {
            ::kill(pid_t(m_process.processId()), SIGTERM);
            if (!m_process.waitForFinished(8000))
                kill();
        }
    }
    bool running() const { return m_process.state() == QProcess::Running; }
    qint64 pid() const { return m_process.processId(); }
    // Complete lines written to standard output since the last call.
    QStringList newLines()
    {
        QFile f(m_out);
        if (!f.open(QIODevice::ReadOnly) || !f.seek(m_read))
            return {};
        const QByteArray data = f.readAll();
        const qsizetype end = data.lastIndexOf('\n');
        if (end < 0)
            return {};
        m_read += end + 1;
        return QString::fromUtf8(data.left(end)).split(QLatin1Char('\n'));
    }
    QString out() const { return m_out; }
    QString err() const { return m_err; }
    QString logTail() const { return QStringLiteral("--- %1\n%2\n--- %3\n%4").arg(m_out, tail(m_out), m_err, tail(m_err)); }

private:
    QProcess m_process;
    QString m_out;
    QString m_err;
    qint64 m_read = 0;
};

// A four-letter command to a ZooKeeper member; empty when it does not answer within `ms`.
QByteArray fourLetters(const QString &address, const QByteArray &command, int ms = 1000)
{
    QTcpSocket s;
    s.connectToHost(address, ZkPort);
    if (!s.waitForConnected(300)) // a member on the same machine: it connects at once, or is cut off
        return {};
    s.write(command);
    QByteArray answer;
    const QDeadlineTimer deadline(ms);
    while (s.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()
           && s.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
        answer += s.readAll();
    return answer + s.readAll();
}

// What a consumer reported last (see partitionconsumer.cpp for the lines).
struct InvokerView
{
    QString state;
    bool connected = false;
    quint64 calls = 0;
    quint64 failures = 0;
    qint64 startTime = 0;
    quint64 succeeded() const { return calls - failures; }
};
struct StateEvent
{
    qint64 ms;
    QString address;
    QString state;
    bool connected;
};

class Consumer
{
public:
    Consumer(const NetLab &lab, const QString &host, const QStringList &arguments, const QString &logPrefix)
        : name(host), process(lab, host, QStringLiteral(PARTITION_CONSUMER), arguments, logPrefix)
    {
    }

    void update()
    {
        for (const QString &line : process.newLines()) {
            const QStringList f = line.split(QLatin1Char(' '), Qt::SkipEmptyParts);
            if (f.isEmpty())
                continue;
            if (f[0] == QLatin1String("TICK") && f.size() >= 5) {
                tickMs = f[1].toLongLong();
                ok = f[2].mid(3).toULongLong();
                failed = f[3].mid(7).toULongLong();
                zk = f[4] == QLatin1String("zk=1");
                invokers.clear();
                for (qsizetype i = 5; i < f.size(); ++i) {
                    const QStringList v = f[i].mid(4).split(QLatin1Char('|'));
                    if (v.size() < 6)
                        continue;
                    invokers.insert(v[0], InvokerView{v[1], v[2] == QLatin1String("1"), v[3].toULongLong(),
                                                      v[4].toULongLong(), v[5].toLongLong()});
                }
            } else if (f[0] == QLatin1String("STATE") && f.size() >= 5) {
                events.append({f[1].toLongLong(), f[2], f[3], f[4] == QLatin1String("1")});
            } else if (f[0] == QLatin1String("INSTANCES") && f.size() >= 2) {
                instanceEvents.append({f[1].toLongLong(), f.mid(2)});
            } else if (f[0] == QLatin1String("FAIL")) {
                failures << line;
            } else if (f[0] == QLatin1String("READY")) {
                ready = true;
            }
        }
    }
    // Waits for a TICK taken at or after `ms`, so that what follows is at least that fresh.
    bool freshSince(qint64 ms, int timeoutMs = 5000)
    {
        return waitFor([&] { update(); return tickMs >= ms; }, timeoutMs, 20);
    }
    QSet<QString> addresses() const
    {
        const QList<QString> keys = invokers.keys();
        return QSet<QString>(keys.begin(), keys.end());
    }
    quint64 succeededAt(const QString &address) const { return invokers.value(address).succeeded(); }
    // The first event of `address` at or after `since` that `matches`, or -1.
    qint64 firstEvent(const QString &address, qint64 since, const std::function<bool(const StateEvent &)> &matches) const
    {
        for (const StateEvent &e : events) {
            if (e.address == address && e.ms >= since && matches(e))
                return e.ms;
        }
        return -1;
    }
    // The first time at or after `since` the registry's list came without `address`, or -1.
    qint64 firstListWithout(const QString &address, qint64 since) const
    {
        for (const auto &[ms, list] : instanceEvents) {
            if (ms >= since && !list.contains(address))
                return ms;
        }
        return -1;
    }
    QString failuresSince(qint64 since) const
    {
        QStringList out;
        for (const QString &line : failures) {
            if (line.section(QLatin1Char(' '), 1, 1).toLongLong() >= since)
                out << line;
        }
        return out.mid(0, 10).join(QLatin1Char('\n'));
    }

    QString name;
    HostProcess process;
    bool ready = false;
    qint64 tickMs = 0;
    quint64 ok = 0;
    quint64 failed = 0;
    bool zk = false;
    QMap<QString, InvokerView> invokers;
    QList<StateEvent> events;
    QList<std::pair<qint64, QStringList>> instanceEvents;
    QStringList failures;
};

// The calls of each consumer over one phase.
struct Tally
{
    QString phase;
    QList<quint64> okBefore, failedBefore;
};

} // namespace

class tst_Partitions : public QObject
{
    Q_OBJECT
public:
    ~tst_Partitions() override { tearDown(); }

private Q_SLOTS:
    void initTestCase();
    void providersRegisterTheirNamespaceAddress();
    void aCutProviderLeavesRotationWithinTheHeartbeatBoundAndComesBack();
    void aConsumerCutOffZooKeeperKeepsCallingItsProviders();
    void losingTheZooKeeperLeaderFailsNoCall();
    void aPartitionedMinorityLosesItsSessionsAndHeals();
    void everyProviderIsRegisteredAndNoConsumerHoldsAStaleInstance();
    void cleanup();
    void cleanupTestCase();

private:
    // --- the cluster -----------------------------------------------------------------------
    QString zkAddress(int i) const { return m_lab->address(QStringLiteral("zk%1").arg(i), QStringLiteral("zk")); }
    QString registryUri() const
    {
        return QStringLiteral("zookeeper://%1:%4,%2:%4,%3:%4").arg(zkAddress(1), zkAddress(2), zkAddress(3)).arg(ZkPort);
    }
    QString providerAddress(const QString &p) const
    {
        return QStringLiteral("tcp://%1:%2").arg(m_lab->address(p, QStringLiteral("rpc"))).arg(RpcPort);
    }
    QSet<QString> allProviderAddresses() const
    {
        return {providerAddress(QStringLiteral("p1")), providerAddress(QStringLiteral("p2")),
                providerAddress(QStringLiteral("p3"))};
    }
    bool startZooKeeper(int myid, QString *error);
    bool startProvider(const QString &p, QString *error);
    std::unique_ptr<Consumer> startConsumer(const QString &c);

    // --- ZooKeeper, read from this process --------------------------------------------------
    // The members answering `srvr` as leader or follower, and which one leads (0: none).
    QList<int> servingMembers(int *leader = nullptr) const;
    // Readers connect to serving members only: one cut off would hold them for its timeout.
    std::unique_ptr<ZooKeeperReader> reader() const;
    // The registered instances of demo-rpc-service in dev; nullopt when the ensemble cannot be
    // read now.
    std::optional<QList<InstanceInfo>> registered() const;
    std::optional<QSet<QString>> registeredAddresses() const;
    std::optional<QSet<qint64>> consumerPids() const;

    // --- phases ----------------------------------------------------------------------------
    // Every provider registered, each consumer connected to the registry, listing exactly
    // them, each ready (connected, circuit closed), and taking calls.
    bool healthy(QString *why);
    void waitHealthy();
    Tally begin(const QString &phase);
    // Fails the test if a consumer failed a call since begin(); logs the calls made.
    void end(const Tally &tally);
    void updateAll()
    {
        for (auto &c : m_consumers)
            c->update();
    }
    QString logs() const;
    void tearDown();

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<NetLab> m_lab;
    std::map<int, std::unique_ptr<HostProcess>> m_zk;            // by myid
    std::map<QString, std::unique_ptr<HostProcess>> m_providers; // by host
    std::vector<std::unique_ptr<Consumer>> m_consumers;         // c1, c2
    qint64 m_phaseStart = 0;
    QSet<int> m_cutMembers; // ZooKeeper members this process cannot reach now
    bool m_anyFailed = false;
    QStringList m_figures; // for the summary at the end
};

// --- the cluster ----------------------------------------------------------------------------

bool tst_Partitions::startZooKeeper(int myid, QString *error)
{
    const QString host = QStringLiteral("zk%1").arg(myid);
    const QString dir = m_dir->path() + QLatin1Char('/') + host;
    QDir().mkpath(dir + QStringLiteral("/data"));
    QFile myidFile(dir + QStringLiteral("/data/myid"));
    QFile cfg(dir + QStringLiteral("/zoo.cfg"));
    if (!myidFile.open(QIODevice::WriteOnly) || !cfg.open(QIODevice::WriteOnly)) {
        *error = QStringLiteral("cannot write %1").arg(dir);
        return false;
    }
    myidFile.write(QByteArray::number(myid) + "\n");
    // tickTime 500 ms: a follower gives up on a silent leader after syncLimit ticks (2 s).
    QByteArray text = "tickTime=500\ninitLimit=20\nsyncLimit=4\n"
                      "minSessionTimeout=1000\nmaxSessionTimeout=60000\n"
                      "admin.enableServer=false\n4lw.commands.whitelist=ruok,srvr,stat,mntr\n";
    text += "dataDir=" + (dir + QStringLiteral("/data")).toUtf8() + "\n";
    text += "clientPort=" + QByteArray::number(ZkPort) + "\nclientPortAddress=" + zkAddress(myid).toUtf8() + "\n";
    for (int i = 1; i <= 3; ++i)
        text += "server." + QByteArray::number(i) + "=" + zkAddress(i).toUtf8() + ":2888:3888\n";
    cfg.write(text);
    cfg.close();
    m_zk[myid] = std::make_unique<HostProcess>(
        *m_lab, host, QStringLiteral("java"),
        QStringList{QStringLiteral("-Xmx128m"), QStringLiteral("-XX:+UseSerialGC"), QStringLiteral("-XX:TieredStopAtLevel=1"),
                    // A connect to a cut peer's election port gives up after 1 s, not 5.
                    QStringLiteral("-Dzookeeper.cnxTimeout=1000"), QStringLiteral("-cp"),
                    QStringLiteral("/etc/zookeeper/conf_example:/usr/share/java/zookeeper.jar"),
                    QStringLiteral("org.apache.zookeeper.server.quorum.QuorumPeerMain"), cfg.fileName()},
        dir + QStringLiteral("/zookeeper"));
    if (!m_zk[myid]->running()) {
        *error = QStringLiteral("java did not start in %1").arg(host);
        return false;
    }
    return true;
}

bool tst_Partitions::startProvider(const QString &p, QString *error)
{
    const QString rpc = m_lab->address(p, QStringLiteral("rpc"));
    auto process = std::make_unique<HostProcess>(
        *m_lab, p, QStringLiteral(SAMPLE_SERVER),
        QStringList{QStringLiteral("--tomato-rpc.name-service-uri=") + registryUri(),
                    // Every address of the host; what is announced is advertise-host.
                    QStringLiteral("--tomato-rpc.host=0.0.0.0"), QStringLiteral("--tomato-rpc.port=%1").arg(RpcPort),
                    QStringLiteral("--tomato-rpc.advertise-host=") + rpc,
                    QStringLiteral("--tomato-rpc.stage=") + Stage, QStringLiteral("--tomato-rpc.group=main"),
                    QStringLiteral("--tomato-rpc.registry-session-timeout-ms=%1").arg(SessionTimeoutMs)},
        m_dir->path() + QLatin1Char('/') + p);
    QString ready;
    waitFor([&] {
        for (const QString &line : process->newLines()) {
            if (line.startsWith(QLatin1String("READY ")))
                ready = line;
        }
        return !ready.isEmpty() || !process->running();
    }, 30000, 50);
    if (!ready.startsWith(QStringLiteral("READY %1:%2 ").arg(rpc).arg(RpcPort))) {
        *error = QStringLiteral("%1 is not ready as %2:%3: '%4'\n%5").arg(p, rpc).arg(RpcPort).arg(ready, process->logTail());
        return false;
    }
    m_providers[p] = std::move(process);
    return true;
}

std::unique_ptr<Consumer> tst_Partitions::startConsumer(const QString &c)
{
    return std::make_unique<Consumer>(
        *m_lab, c,
        QStringList{QStringLiteral("--callers=3"), QStringLiteral("--pause-ms=5"), QStringLiteral("--expect=3"),
                    QStringLiteral("--tomato-rpc.name-service-uri=") + registryUri(),
                    QStringLiteral("--tomato-rpc.stage=") + Stage, QStringLiteral("--tomato-rpc.group=main"),
                    QStringLiteral("--tomato-rpc.subscribed-services=") + Service,
                    QStringLiteral("--tomato-rpc.advertise-host=") + m_lab->address(c, QStringLiteral("rpc")),
                    QStringLiteral("--tomato-rpc.cluster=failover"), QStringLiteral("--tomato-rpc.retries=2"),
                    // 3 attempts within 3 s: the first waits 1 s at most (docs/CLUSTER.md#failover).
                    QStringLiteral("--tomato-rpc.timeout-ms=3000"),
                    QStringLiteral("--tomato-rpc.client-keep-alive-ms=%1").arg(KeepAliveMs),
                    QStringLiteral("--tomato-rpc.connect-timeout-ms=500"),
                    QStringLiteral("--tomato-rpc.reconnect-backoff-min-ms=100"),
                    QStringLiteral("--tomato-rpc.reconnect-backoff-max-ms=1000"),
                    QStringLiteral("--tomato-rpc.circuit-open-seconds=1"),
                    QStringLiteral("--tomato-rpc.warmup-seconds=0"),
                    QStringLiteral("--tomato-rpc.registry-session-timeout-ms=%1").arg(SessionTimeoutMs)},
        m_dir->path() + QLatin1Char('/') + c);
}

// --- ZooKeeper ------------------------------------------------------------------------------

QList<int> tst_Partitions::servingMembers(int *leader) const
{
    QList<int> out;
    if (leader)
        *leader = 0;
    for (int i = 1; i <= 3; ++i) {
        if (m_cutMembers.contains(i))
            continue; // would only cost a connect timeout
        const QByteArray answer = fourLetters(zkAddress(i), "srvr");
        if (answer.contains("Mode: leader")) {
            out << i;
            if (leader)
                *leader = i;
        } else if (answer.contains("Mode: follower")) {
            out << i;
        }
    }
    return out;
}

std::unique_ptr<ZooKeeperReader> tst_Partitions::reader() const
{
    QStringList hosts;
    for (int i : servingMembers())
        hosts << QStringLiteral("%1:%2").arg(zkAddress(i)).arg(ZkPort);
    if (hosts.isEmpty())
        return nullptr;
    auto r = std::make_unique<ZooKeeperReader>(hosts.join(QLatin1Char(',')));
    return r->connected() ? std::move(r) : nullptr;
}

std::optional<QList<InstanceInfo>> tst_Partitions::registered() const
{
    auto r = reader();
    if (!r)
        return std::nullopt;
    QList<InstanceInfo> out;
    for (const QString &node : r->children(ZooKeeperRegistry::providersPath(Service, Stage))) {
        if (auto instance = InstanceInfo::fromNodeName(node))
            out << *instance;
    }
    return r->connected() ? std::optional(out) : std::nullopt;
}

std::optional<QSet<QString>> tst_Partitions::registeredAddresses() const
{
    const auto instances = registered();
    if (!instances)
        return std::nullopt;
    QSet<QString> out;
    for (const InstanceInfo &i : *instances)
        out << i.endpoint().toString();
    return out;
}

std::optional<QSet<qint64>> tst_Partitions::consumerPids() const
{
    auto r = reader();
    if (!r)
        return std::nullopt;
    QSet<qint64> out;
    for (const QString &node : r->children(ZooKeeperRegistry::consumersPath(Service, Stage))) {
        if (auto consumer = ConsumerInfo::fromNodeName(node))
            out << consumer->pid;
    }
    return r->connected() ? std::optional(out) : std::nullopt;
}

// --- phases ---------------------------------------------------------------------------------

bool tst_Partitions::healthy(QString *why)
{
    const auto registeredNow = registeredAddresses();
    if (!registeredNow || *registeredNow != allProviderAddresses()) {
        *why = QStringLiteral("registered: %1").arg(registeredNow ? QStringList(registeredNow->values()).join(QLatin1Char(' '))
                                                                  : QStringLiteral("(ensemble not readable)"));
        return false;
    }
    updateAll();
    for (const auto &c : m_consumers) {
        if (!c->zk || c->addresses() != allProviderAddresses()) {
            *why = QStringLiteral("%1: zk=%2, lists %3").arg(c->name).arg(c->zk).arg(QStringList(c->addresses().values()).join(QLatin1Char(' ')));
            return false;
        }
        for (auto it = c->invokers.cbegin(); it != c->invokers.cend(); ++it) {
            if (it->state != QLatin1String("ready") || !it->connected || it->succeeded() == 0) {
                *why = QStringLiteral("%1: %2 is %3, connected %4, %5 calls").arg(c->name, it.key(), it->state).arg(it->connected).arg(it->succeeded());
                return false;
            }
        }
    }
    return true;
}

void tst_Partitions::waitHealthy()
{
    QString why;
    const bool ok = waitFor([&] { return healthy(&why); }, 30000, 200);
    QVERIFY2(ok, qPrintable(QStringLiteral("the cluster is not healthy: %1\n%2").arg(why, logs())));
}

Tally tst_Partitions::begin(const QString &phase)
{
    m_phaseStart = now();
    Tally t{phase, {}, {}};
    for (auto &c : m_consumers) {
        c->freshSince(m_phaseStart);
        t.okBefore << c->ok;
        t.failedBefore << c->failed;
    }
    return t;
}

void tst_Partitions::end(const Tally &t)
{
    const qint64 at = now();
    QStringList counts;
    QString failures;
    quint64 failedInPhase = 0;
    for (size_t i = 0; i < m_consumers.size(); ++i) {
        Consumer &c = *m_consumers[i];
        c.freshSince(at);
        const quint64 ok = c.ok - t.okBefore[qsizetype(i)];
        const quint64 failed = c.failed - t.failedBefore[qsizetype(i)];
        failedInPhase += failed;
        counts << QStringLiteral("%1 %2 ok / %3 failed").arg(c.name).arg(ok).arg(failed);
        QVERIFY2(ok > 100, qPrintable(QStringLiteral("%1 made only %2 calls: no load").arg(c.name).arg(ok)));
        if (failed)
            failures += c.failuresSince(m_phaseStart) + QLatin1Char('\n');
    }
    const QString line = QStringLiteral("%1 (%2 s): %3").arg(t.phase).arg(double(at - m_phaseStart) / 1000.0, 0, 'f', 1).arg(counts.join(QLatin1String(", ")));
    m_figures << line;
    qInfo("%s", qPrintable(line));
    QVERIFY2(failedInPhase == 0, qPrintable(QStringLiteral("idempotent calls failed while a healthy path existed:\n") + failures));
}

QString tst_Partitions::logs() const
{
    QString out;
    for (const auto &c : m_consumers)
        out += c->process.logTail().right(1500) + QLatin1Char('\n');
    for (const auto &[p, process] : m_providers)
        out += process->logTail().right(1000) + QLatin1Char('\n');
    return out;
}

void tst_Partitions::tearDown()
{
    for (auto &c : m_consumers)
        c->process.kill();
    m_consumers.clear();
    m_providers.clear();
    m_zk.clear();
    m_lab.reset(); // its namespaces, and with them the veths and bridges, go
    if (m_dir && m_anyFailed) {
        m_dir->setAutoRemove(false);
        qWarning("the processes' output is kept in %s", qPrintable(m_dir->path()));
    }
    m_dir.reset();
}

// --- tests ----------------------------------------------------------------------------------

void tst_Partitions::initTestCase()
{
    const QString missing = NetLab::unavailable();
    if (!missing.isEmpty())
        QSKIP(qPrintable(QStringLiteral("network namespaces cannot be made here, so there are no test hosts: %1. "
                                        "It needs root with CAP_SYS_ADMIN and CAP_NET_ADMIN, as CI runs it.").arg(missing)));
    QVERIFY2(QFile::exists(QStringLiteral("/usr/share/java/zookeeper.jar")), "Debian's zookeeper package is needed");
    NetLab::removeStale();
    m_anyFailed = true; // until the cluster is up
    m_dir = std::make_unique<QTemporaryDir>();
    // TST_PARTITIONS_KEEP_LOGS=1 keeps every process's output (and says where).
    if (qEnvironmentVariableIntValue("TST_PARTITIONS_KEEP_LOGS")) {
        m_dir->setAutoRemove(false);
        qInfo("logs in %s", qPrintable(m_dir->path()));
    }
    zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); // our readers' sessions are many and unremarkable
    m_lab = std::make_unique<NetLab>();
    QString error;
    QVERIFY2(m_lab->addNetworks({QStringLiteral("rpc"), QStringLiteral("zk")}, QStringLiteral("zk"), &error), qPrintable(error));
    for (int i = 1; i <= 3; ++i)
        QVERIFY2(m_lab->addHost(QStringLiteral("zk%1").arg(i), 10 + i, {QStringLiteral("zk")}, &error), qPrintable(error));
    for (int i = 1; i <= 3; ++i)
        QVERIFY2(m_lab->addHost(QStringLiteral("p%1").arg(i), 20 + i, {QStringLiteral("rpc"), QStringLiteral("zk")}, &error),
                 qPrintable(error));
    for (int i = 1; i <= 2; ++i)
        QVERIFY2(m_lab->addHost(QStringLiteral("c%1").arg(i), 30 + i, {QStringLiteral("rpc"), QStringLiteral("zk")}, &error),
                 qPrintable(error));

    const qint64 t0 = now();
    for (int i = 1; i <= 3; ++i)
        QVERIFY2(startZooKeeper(i, &error), qPrintable(error));
    int leader = 0;
    const auto allRunning = [&] { return m_zk[1]->running() && m_zk[2]->running() && m_zk[3]->running(); };
    const bool quorum = waitFor([&] { return (servingMembers(&leader).size() == 3 && leader > 0) || !allRunning(); }, 90000, 250);
    QVERIFY2(quorum && allRunning(), qPrintable(QStringLiteral("the ensemble did not form:\n%1\n%2\n%3")
                                                    .arg(m_zk[1]->logTail(), m_zk[2]->logTail(), m_zk[3]->logTail())));
    qInfo("ensemble of 3 serving after %lld ms, zk%d leads", now() - t0, leader);

    for (int i = 1; i <= 3; ++i)
        QVERIFY2(startProvider(QStringLiteral("p%1").arg(i), &error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(registeredAddresses() == allProviderAddresses(), 20000);
    m_consumers.push_back(startConsumer(QStringLiteral("c1")));
    m_consumers.push_back(startConsumer(QStringLiteral("c2")));
    for (auto &c : m_consumers) {
        const bool ready = waitFor([&] { c->update(); return c->ready || !c->process.running(); }, 40000, 50);
        QVERIFY2(ready && c->process.running(), qPrintable(c->process.logTail()));
    }
    CHECK(waitHealthy());
    m_anyFailed = false;
    qInfo("cluster up after %lld ms", now() - t0);
}

// advertise-host proven: each provider listens on 0.0.0.0 of a host with two addresses and
// registers the one it was told, its namespace's rpc address: never 0.0.0.0 or 127.0.0.1
// (nor its zk address, which the library might have picked as "the first non-loopback").
void tst_Partitions::providersRegisterTheirNamespaceAddress()
{
    const auto instances = registered();
    QVERIFY(instances);
    QCOMPARE(instances->size(), 3);
    QSet<QString> hosts;
    auto r = reader();
    QVERIFY(r);
    for (const InstanceInfo &i : *instances) {
        QVERIFY2(i.host() != QLatin1String("0.0.0.0") && !i.host().startsWith(QLatin1String("127.")), qPrintable(i.toUri()));
        QCOMPARE(i.port(), RpcPort);
        hosts << i.host();
        // The node's data says the same.
        const auto node = r->node(ZooKeeperRegistry::instancePath(i));
        QVERIFY2(node && node->second, "an ephemeral node");
        QCOMPARE(QJsonDocument::fromJson(node->first).object().value(QLatin1String("host")).toString(), i.host());
    }
    QCOMPARE(hosts, (QSet<QString>{m_lab->address(QStringLiteral("p1"), QStringLiteral("rpc")),
                                   m_lab->address(QStringLiteral("p2"), QStringLiteral("rpc")),
                                   m_lab->address(QStringLiteral("p3"), QStringLiteral("rpc"))}));
    // ... and that is where the consumers call them.
    updateAll();
    for (const auto &c : m_consumers)
        QCOMPARE(c->addresses(), allProviderAddresses());
}

// p1's links (rpc and zk) cut, its process running: each consumer's connection to it is
// dropped by heartbeats within HeartbeatBoundMs, and it stays out of rotation (never ready)
// until restored, long before the registry drops it (its session expires after
// SessionTimeoutMs; its node must go within SessionBoundMs). No call fails: the calls that
// were waiting on p1 are retried on p2 and p3. Restored, p1 registers again within
// ReRegisterBoundMs and takes calls from both consumers.
void tst_Partitions::aCutProviderLeavesRotationWithinTheHeartbeatBoundAndComesBack()
{
    CHECK(waitHealthy());
    const Tally tally = begin(QStringLiteral("provider p1 cut"));
    const QString p1 = providerAddress(QStringLiteral("p1"));
    const qint64 cutAt = now();
    QVERIFY(m_lab->setLink(QStringLiteral("p1"), {}, false));

    // Out of rotation: its invoker not ready, the connection down.
    auto leftRotation = [&](const Consumer &c) {
        return c.firstEvent(p1, cutAt, [](const StateEvent &e) { return e.state != QLatin1String("ready") || !e.connected; });
    };
    for (auto &c : m_consumers) {
        const bool noticed = waitFor([&] { c->update(); return leftRotation(*c) >= 0; }, SessionBoundMs);
        QVERIFY2(noticed, qPrintable(c->name + QStringLiteral(" never took p1 out of rotation\n") + logs()));
    }
    // Its session expires: the node goes, and with it p1 from every consumer's list.
    qint64 unregisteredAt = -1;
    QVERIFY2(waitFor([&] {
        const auto addresses = registeredAddresses();
        if (addresses && !addresses->contains(p1))
            unregisteredAt = now();
        return unregisteredAt > 0;
    }, SessionBoundMs + 2000, 100), "p1's session never expired");
    for (auto &c : m_consumers)
        QVERIFY2(waitFor([&] { c->update(); return c->firstListWithout(p1, cutAt) >= 0; }, 5000),
                 qPrintable(c->name + QStringLiteral(" still lists p1")));
    for (auto &c : m_consumers) {
        const qint64 left = leftRotation(*c) - cutAt;
        const qint64 delisted = c->firstListWithout(p1, cutAt) - cutAt;
        const QString line = QStringLiteral("%1: p1 out of rotation %2 ms after the cut (bound %3 ms), delisted by the "
                                            "registry after %4 ms (its node gone after %5 ms)")
                                 .arg(c->name).arg(left).arg(HeartbeatBoundMs).arg(delisted).arg(unregisteredAt - cutAt);
        m_figures << line;
        qInfo("%s", qPrintable(line));
        QVERIFY2(left <= HeartbeatBoundMs, qPrintable(line));
        QVERIFY2(left < delisted, qPrintable(line)); // not the registry...
        // ... but heartbeats (the only thing that drops a connection the peer never closed).
        const QString dropped = QStringLiteral("no answer from %1 to 2 heartbeats").arg(p1);
        QVERIFY2(tail(c->process.err(), 1 << 20).contains(dropped), qPrintable(c->name + QStringLiteral(" did not log: ") + dropped));
        // Out means out: never ready again while cut.
        QVERIFY2(c->firstEvent(p1, cutAt + left + 1, [](const StateEvent &e) { return e.state == QLatin1String("ready"); }) < 0,
                 qPrintable(c->name + QStringLiteral(": p1 was ready again while cut off")));
    }
    QVERIFY2(unregisteredAt - cutAt <= SessionBoundMs, qPrintable(QString::number(unregisteredAt - cutAt)));

    // Restored: registered again, listed and called again by both.
    const qint64 restoredAt = now();
    QVERIFY(m_lab->setLink(QStringLiteral("p1"), {}, true));
    qint64 registeredAt = -1;
    QVERIFY2(waitFor([&] {
        const auto addresses = registeredAddresses();
        if (addresses && addresses->contains(p1))
            registeredAt = now();
        return registeredAt > 0;
    }, ReRegisterBoundMs, 100), qPrintable(QStringLiteral("p1 did not register again\n") + m_providers[QStringLiteral("p1")]->logTail()));
    for (auto &c : m_consumers) {
        const bool back = waitFor([&] {
            c->update();
            return c->invokers.contains(p1) && c->invokers[p1].state == QLatin1String("ready") && c->invokers[p1].succeeded() > 0;
        }, 10000);
        QVERIFY2(back, qPrintable(c->name + QStringLiteral(" does not call p1 again")));
    }
    const QString line = QStringLiteral("p1 registered again %1 ms after its link came back, called again by both after %2 ms")
                             .arg(registeredAt - restoredAt).arg(now() - restoredAt);
    m_figures << line;
    qInfo("%s", qPrintable(line));
    CHECK(end(tally));
}

// c1's link to the zk network cut, its rpc link up: it keeps calling the three providers it
// knows (each of them takes its calls while it is cut off), fails none, and its session
// expires (its consumer node goes: the cut was real). Restored, it connects again (within
// ReRegisterBoundMs), its consumer node comes back and it lists what is registered.
void tst_Partitions::aConsumerCutOffZooKeeperKeepsCallingItsProviders()
{
    CHECK(waitHealthy());
    const Tally tally = begin(QStringLiteral("consumer c1 off ZooKeeper"));
    Consumer &c1 = *m_consumers[0];
    const qint64 c1Pid = c1.process.pid();
    const auto pidsBefore = consumerPids();
    QVERIFY(pidsBefore && pidsBefore->contains(c1Pid));
    QVERIFY(m_lab->setLink(QStringLiteral("c1"), QStringLiteral("zk"), false));
    const qint64 cutAt = now();
    QVERIFY2(waitFor([&] { c1.update(); return c1.tickMs > cutAt && !c1.zk; }, SessionBoundMs), "c1 still connected to ZooKeeper");
    const qint64 disconnectedAt = now();
    QVERIFY2(waitFor([&] { const auto pids = consumerPids(); return pids && !pids->contains(c1Pid); }, SessionBoundMs + 2000),
             "c1's session never expired");
    const qint64 expiredAt = now();
    // Still calling every provider it knew, all ready.
    QMap<QString, quint64> before;
    c1.update();
    for (auto it = c1.invokers.cbegin(); it != c1.invokers.cend(); ++it)
        before.insert(it.key(), it->succeeded());
    const qint64 checkFrom = now();
    QVERIFY2(waitFor([&] {
        c1.update();
        if (c1.tickMs < checkFrom + 1000)
            return false;
        for (const QString &a : allProviderAddresses()) {
            if (!c1.invokers.contains(a) || c1.invokers[a].succeeded() < before.value(a) + 20)
                return false;
        }
        return true;
    }, 10000), "c1 stopped calling a provider while cut off ZooKeeper");
    QVERIFY(!c1.zk);
    QCOMPARE(c1.addresses(), allProviderAddresses());

    const qint64 restoredAt = now();
    QVERIFY(m_lab->setLink(QStringLiteral("c1"), QStringLiteral("zk"), true));
    QVERIFY2(waitFor([&] { c1.update(); return c1.zk; }, ReRegisterBoundMs), "c1 did not connect again");
    const qint64 reconnectedAt = now();
    QVERIFY2(waitFor([&] { const auto pids = consumerPids(); return pids && pids->contains(c1Pid); }, ReRegisterBoundMs),
             "c1's consumer node did not come back");
    const QString line = QStringLiteral("c1 off ZooKeeper: disconnected %1 ms after the cut, its session gone after %2 ms, "
                                        "connected again %3 ms and its consumer node back %4 ms after the restore")
                             .arg(disconnectedAt - cutAt).arg(expiredAt - cutAt).arg(reconnectedAt - restoredAt).arg(now() - restoredAt);
    m_figures << line;
    qInfo("%s", qPrintable(line));
    CHECK(waitHealthy());
    CHECK(end(tally));
}

// The leader's link cut: the two others elect one of them; the registrations stand, or come
// back at once if a provider's session expired while its member was gone; the consumers keep
// calling all the while. Restored, the old leader serves again as a follower.
void tst_Partitions::losingTheZooKeeperLeaderFailsNoCall()
{
    CHECK(waitHealthy());
    int leader = 0;
    QVERIFY(servingMembers(&leader).size() == 3 && leader > 0);
    const Tally tally = begin(QStringLiteral("ZooKeeper leader zk%1 cut").arg(leader));
    const QString host = QStringLiteral("zk%1").arg(leader);
    const qint64 cutAt = now();
    QVERIFY(m_lab->setLink(host, QStringLiteral("zk"), false));
    m_cutMembers << leader;
    int newLeader = 0;
    const bool elected = waitFor([&] { servingMembers(&newLeader); return newLeader > 0 && newLeader != leader; }, 30000, 100);
    QVERIFY2(elected, qPrintable(QStringLiteral("no new leader:\n") + tail(m_zk[leader == 1 ? 2 : 1]->out())));
    const qint64 electedAt = now();
    // Providers and consumers on the two remaining members; everything registered.
    QString why;
    QVERIFY2(waitFor([&] { return healthy(&why); }, 20000, 200), qPrintable(why));
    const qint64 healthyAt = now();

    const qint64 restoredAt = now();
    QVERIFY(m_lab->setLink(host, QStringLiteral("zk"), true));
    m_cutMembers.clear();
    QVERIFY2(waitFor([&] { int l = 0; return servingMembers(&l).size() == 3 && l == newLeader; }, 30000, 250),
             qPrintable(QStringLiteral("zk%1 did not follow again:\n%2").arg(leader).arg(tail(m_zk[leader]->out()))));
    // Whether a provider's session expired meanwhile (its node gone and back): the fewest
    // instances a consumer was told of.
    qsizetype fewest = 3;
    for (const auto &c : m_consumers) {
        c->update();
        for (const auto &[ms, list] : c->instanceEvents) {
            if (ms >= cutAt)
                fewest = std::min(fewest, list.size());
        }
    }
    const QString line = QStringLiteral("leader zk%1 cut: zk%2 elected after %3 ms, all registered and every consumer connected "
                                        "after %4 ms (fewest instances listed meanwhile: %6); zk%1 following again %5 ms after "
                                        "the restore")
                             .arg(leader).arg(newLeader).arg(electedAt - cutAt).arg(healthyAt - cutAt).arg(now() - restoredAt).arg(fewest);
    m_figures << line;
    qInfo("%s", qPrintable(line));
    CHECK(end(tally));
}

// The zk network split: a follower, p3 and c2 on one side, the two other members and
// everyone else on the other. The minority has no quorum, so p3's and c2's sessions expire:
// p3's node goes (within SessionBoundMs), c1 drops p3, and c2, without a registry, keeps
// calling what it knew, p3 included (reachable over rpc and healthy). Healed, p3 registers
// again and c2 connects again (within ReRegisterBoundMs), and both list exactly p1..p3.
void tst_Partitions::aPartitionedMinorityLosesItsSessionsAndHeals()
{
    CHECK(waitHealthy());
    int leader = 0;
    QCOMPARE(servingMembers(&leader).size(), 3);
    const int follower = leader == 3 ? 2 : 3;
    const QString minorityMember = QStringLiteral("zk%1").arg(follower);
    const Tally tally = begin(QStringLiteral("zk network partitioned: {zk%1, p3, c2} | the rest").arg(follower));
    Consumer &c1 = *m_consumers[0];
    Consumer &c2 = *m_consumers[1];
    const QString p3 = providerAddress(QStringLiteral("p3"));
    const qint64 c2Pid = c2.process.pid();
    const qint64 cutAt = now();
    QVERIFY(m_lab->partition(QStringLiteral("zk"), {minorityMember, QStringLiteral("p3"), QStringLiteral("c2")}));
    m_cutMembers << follower; // on the other side

    qint64 p3GoneAt = -1;
    QVERIFY2(waitFor([&] {
        const auto addresses = registeredAddresses();
        if (addresses && !addresses->contains(p3))
            p3GoneAt = now();
        return p3GoneAt > 0;
    }, SessionBoundMs + 2000, 100), "p3's session did not expire");
    QVERIFY2(waitFor([&] { const auto pids = consumerPids(); return pids && !pids->contains(c2Pid); }, SessionBoundMs + 2000),
             "c2's session did not expire");
    // The majority's consumer follows the registry: no stale p3.
    QVERIFY2(waitFor([&] { c1.update(); return c1.tickMs > p3GoneAt && !c1.invokers.contains(p3); }, 5000),
             "c1 still holds p3 after its node went");
    const qint64 c1DroppedAt = now();
    QCOMPARE(c1.addresses(), allProviderAddresses() - QSet<QString>{p3});
    // The minority's consumer has no registry and keeps its providers, p3 among them.
    c2.update();
    QVERIFY(!c2.zk);
    QCOMPARE(c2.addresses(), allProviderAddresses());
    const quint64 p3Calls = c2.succeededAt(p3);
    QVERIFY2(waitFor([&] { c2.update(); return c2.succeededAt(p3) > p3Calls + 20; }, 5000), "c2 stopped calling p3");

    const qint64 healedAt = now();
    QVERIFY(m_lab->heal(QStringLiteral("zk")));
    m_cutMembers.clear();
    qint64 p3BackAt = -1;
    QVERIFY2(waitFor([&] {
        const auto addresses = registeredAddresses();
        if (addresses && addresses->contains(p3))
            p3BackAt = now();
        return p3BackAt > 0;
    }, ReRegisterBoundMs, 100), qPrintable(QStringLiteral("p3 did not register again\n") + m_providers[QStringLiteral("p3")]->logTail()));
    QVERIFY2(waitFor([&] { const auto pids = consumerPids(); return pids && pids->contains(c2Pid); }, ReRegisterBoundMs),
             "c2's consumer node did not come back");
    const qint64 c2BackAt = now();
    QVERIFY2(waitFor([&] { int l = 0; return servingMembers(&l).size() == 3 && l > 0; }, 30000, 250),
             qPrintable(QStringLiteral("%1 did not serve again").arg(minorityMember)));
    CHECK(waitHealthy());
    const QString line = QStringLiteral("partition: p3's node gone %1 ms after the split and c1 rid of it %2 ms after; healed: "
                                        "p3 registered again after %3 ms, c2's node back after %4 ms")
                             .arg(p3GoneAt - cutAt).arg(c1DroppedAt - p3GoneAt).arg(p3BackAt - healedAt).arg(c2BackAt - healedAt);
    m_figures << line;
    qInfo("%s", qPrintable(line));
    CHECK(end(tally));
}

// After it all: exactly the three providers registered, with their namespace addresses; every
// consumer lists exactly them, as registered (same start time: the instance, not a stale
// earlier one), each ready; both consumers announced; not one call failed since the start.
void tst_Partitions::everyProviderIsRegisteredAndNoConsumerHoldsAStaleInstance()
{
    CHECK(waitHealthy());
    const auto instances = registered();
    QVERIFY(instances);
    QMap<QString, qint64> startTimes;
    for (const InstanceInfo &i : *instances)
        startTimes.insert(i.endpoint().toString(), i.startTime());
    QCOMPARE(QSet<QString>(startTimes.keyBegin(), startTimes.keyEnd()), allProviderAddresses());
    const qint64 at = now();
    for (auto &c : m_consumers) {
        QVERIFY(c->freshSince(at));
        QCOMPARE(c->addresses(), allProviderAddresses());
        for (auto it = c->invokers.cbegin(); it != c->invokers.cend(); ++it) {
            QCOMPARE(it->startTime, startTimes.value(it.key()));
            QCOMPARE(it->state, QStringLiteral("ready"));
        }
        QVERIFY2(c->failed == 0, qPrintable(c->failuresSince(0)));
        m_figures << QStringLiteral("%1: %2 calls in all, %3 failed").arg(c->name).arg(c->ok).arg(c->failed);
    }
    const auto pids = consumerPids();
    QVERIFY(pids);
    QCOMPARE(*pids, (QSet<qint64>{m_consumers[0]->process.pid(), m_consumers[1]->process.pid()}));
    qInfo("summary:\n  %s", qPrintable(m_figures.join(QLatin1String("\n  "))));
}

// Whatever a test left cut or split is restored for the next one.
void tst_Partitions::cleanup()
{
    if (m_lab)
        m_lab->restoreAll();
    m_cutMembers.clear();
    m_anyFailed = m_anyFailed || QTest::currentTestFailed();
}

void tst_Partitions::cleanupTestCase()
{
    for (auto &c : m_consumers)
        c->process.stop();
    tearDown();
}

QTEST_GUILESS_MAIN(tst_Partitions)
#include "tst_partitions.moc"
