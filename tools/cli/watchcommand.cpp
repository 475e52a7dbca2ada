// SPDX-License-Identifier: Apache-2.0
// tomato watch: the instances of a micro-service appearing and leaving, live.
#include "registryaccess.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QJsonObject>
#include <QtCore/QSocketNotifier>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <sys/socket.h>
#include <unistd.h>

namespace Cli {

using Tomato::InstanceInfo;

namespace {

// Turns SIGINT and SIGTERM into a call of `stop` on the main thread while it exists: the
// handler only writes the signal to a socket pair (async-signal-safe), which the event loop
// reads.
class SignalStop
{
public:
    explicit SignalStop(std::function<void()> stop)
    {
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, s_fds) != 0)
            throw Failure(InternalError, QStringLiteral("socketpair: %1").arg(QString::fromLocal8Bit(std::strerror(errno))));
        m_notifier = std::make_unique<QSocketNotifier>(s_fds[1], QSocketNotifier::Read);
        QObject::connect(m_notifier.get(), &QSocketNotifier::activated, m_notifier.get(), std::move(stop));
        std::signal(SIGINT, onSignal);
        std::signal(SIGTERM, onSignal);
    }
    ~SignalStop()
    {
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
        m_notifier.reset();
        ::close(s_fds[0]);
        ::close(s_fds[1]);
    }

private:
    static void onSignal(int signal)
    {
        const char c = char(signal);
        [[maybe_unused]] const auto n = ::write(s_fds[0], &c, 1);
    }
    static inline int s_fds[2] = {-1, -1};
    std::unique_ptr<QSocketNotifier> m_notifier;
};

int positiveOption(const QCommandLineParser &parser, const QString &name)
{
    if (!parser.isSet(name))
        return 0;
    bool ok = false;
    const int value = parser.value(name).toInt(&ok);
    if (!ok || value < 1)
        throw Failure(UsageError, QStringLiteral("watch: --%1: '%2' is not a positive integer").arg(name, parser.value(name)));
    return value;
}

// The instances of one micro-service last read in each watched stage. Prints what is there
// at each stage's first read ("="), then every instance that comes ("+") or goes ("-"), until
// --count changes, --for or a signal. Main thread; the registry's signals drive it.
class Watch
{
public:
    // `count`, `forMs`: --count and --for, 0 when not given.
    Watch(const GlobalOptions &options, const QString &service, int count, int forMs,
          Tomato::ZooKeeperRegistry &registry, const QStringList &stages)
        : m_options(options), m_service(service), m_registry(registry), m_count(count), m_forMs(forMs)
    {
        for (const QString &stage : stages)
            m_seen[stage] = std::nullopt;
        QObject::connect(&registry, &Tomato::Registry::instancesChanged, &m_context,
                         [this](const QString &id, const QString &stage, const QList<InstanceInfo> &instances) {
                             update(id, stage, instances);
                         });
    }

    // Subscribes to every stage and waits, within --timeout, for their first reads.
    void start()
    {
        EventWait wait(m_options.deadline);
        m_wait = &wait;
        for (auto it = m_seen.cbegin(); it != m_seen.cend(); ++it)
            m_registry.subscribe(m_service, it->first);
        const bool read = allRead() || wait.exec();
        m_wait = nullptr;
        if (!read)
            throw Failure(Unreachable, QStringLiteral("the registry at %1 did not list %2 within %3 ms")
                                           .arg(registryName(m_options.nameServiceUri), m_service)
                                           .arg(m_options.timeoutMs));
        QStringList stages;
        for (const auto &[stage, instances] : m_seen)
            stages << stage;
        std::fprintf(stderr, "watching %s in %s (Ctrl+C stops)\n", qPrintable(m_service),
                     qPrintable(stages.join(QLatin1String(", "))));
        std::fflush(stderr);
    }

    // Prints changes until --count of them, --for or SIGINT/SIGTERM.
    void follow()
    {
        m_following = true;
        EventWait wait(m_forMs > 0 ? QDeadlineTimer(m_forMs) : QDeadlineTimer(QDeadlineTimer::Forever));
        m_wait = &wait;
        const SignalStop stop([&wait] { wait.quit(); });
        QObject::connect(&m_registry, &Tomato::Registry::connectedChanged, &wait, [](bool connected) {
            std::fputs(connected ? "tomato: connected to the registry again\n"
                                 : "tomato: lost the connection to the registry; waiting for it\n",
                       stderr);
        });
        wait.exec();
        m_wait = nullptr;
    }

private:
    bool allRead() const
    {
        return std::all_of(m_seen.cbegin(), m_seen.cend(), [](const auto &stage) { return stage.second.has_value(); });
    }

    void update(const QString &service, const QString &stage, const QList<InstanceInfo> &all)
    {
        const auto it = m_seen.find(stage);
        if (service != m_service || it == m_seen.end())
            return;
        QList<InstanceInfo> instances = all;
        if (!m_options.group.isEmpty())
            instances.removeIf([&](const InstanceInfo &i) { return i.group() != m_options.group; });
        if (!it->second) {
            for (const InstanceInfo &i : std::as_const(instances))
                print(QStringLiteral("present"), i);
        } else {
            for (const InstanceInfo &i : std::as_const(*it->second)) {
                if (!instances.contains(i))
                    print(QStringLiteral("removed"), i);
            }
            for (const InstanceInfo &i : std::as_const(instances)) {
                if (!it->second->contains(i))
                    print(QStringLiteral("added"), i);
            }
        }
        it->second = instances;
        const bool done = m_following ? m_count > 0 && m_changes >= m_count : allRead();
        if (m_wait && done)
            m_wait->quit();
    }

    void print(const QString &event, const InstanceInfo &i)
    {
        if (event != QLatin1String("present"))
            ++m_changes;
        if (m_count > 0 && m_changes > m_count)
            return; // one registry read may bring more changes than were asked for
        if (m_options.json) {
            printLine(jsonText(QJsonObject{{QStringLiteral("event"), event},
                                           {QStringLiteral("microServiceId"), i.microServiceId()},
                                           {QStringLiteral("stage"), i.stage()},
                                           {QStringLiteral("group"), i.group()},
                                           {QStringLiteral("address"), i.endpoint().toString()},
                                           {QStringLiteral("weight"), i.weight()},
                                           {QStringLiteral("startTime"), i.startTime()}},
                               false));
            return;
        }
        const QChar sign = event == QLatin1String("added") ? QLatin1Char('+')
            : event == QLatin1String("removed")            ? QLatin1Char('-')
                                                           : QLatin1Char('=');
        printLine(QStringLiteral("%1 %2 %3/%4 weight %5")
                      .arg(sign)
                      .arg(i.endpoint().toString(), i.stage(), i.group())
                      .arg(i.weight()));
    }

    const GlobalOptions &m_options;
    const QString m_service;
    Tomato::ZooKeeperRegistry &m_registry;
    const int m_count; // 0: no limit
    const int m_forMs; // 0: no limit
    std::map<QString, std::optional<QList<InstanceInfo>>> m_seen; // by stage; none before its first read
    int m_changes = 0;
    bool m_following = false;
    EventWait *m_wait = nullptr; // the wait to end when done
    QObject m_context;           // of the connection to the registry: it ends with the watch
};

// --stage, else every stage the service has in the registry now.
QStringList watchedStages(Tomato::ZooKeeperRegistry &registry, const GlobalOptions &options, const QString &service)
{
    if (!options.stage.isEmpty())
        return {options.stage};
    QStringList stages;
    for (const Tomato::RegistryServiceEntry &entry : readTree(registry, options)) {
        if (entry.microServiceId == service)
            stages << entry.stage;
    }
    if (stages.isEmpty())
        throw Failure(UsageError, QStringLiteral("watch: %1 is not in the registry: name the stage to watch with --stage")
                                      .arg(service));
    return stages;
}

int runWatch(const Invocation &invocation)
{
    const QString service = invocation.arguments.at(0);
    const int count = positiveOption(*invocation.parser, QStringLiteral("count"));
    const int forMs = positiveOption(*invocation.parser, QStringLiteral("for"));
    const auto registry = openZooKeeper(invocation.global);
    Watch watch(invocation.global, service, count, forMs, *registry, watchedStages(*registry, invocation.global, service));
    watch.start();
    watch.follow();
    return Success;
}

} // namespace

Command watchCommand()
{
    Command c;
    c.name = QStringLiteral("watch");
    c.arguments = {{QStringLiteral("service-id"), QStringLiteral("The micro-service to watch."), QStringLiteral("<service-id>")}};
    c.options = {{QStringLiteral("count"), QStringLiteral("Stop after N changes."), QStringLiteral("N")},
                 {QStringLiteral("for"), QStringLiteral("Stop after MS milliseconds."), QStringLiteral("MS")}};
    c.summary = QStringLiteral("Prints the instances of a micro-service as they come and go, live.");
    c.description = QStringLiteral(
        "Watches the service in --stage, else in every stage it has now, and prints the instances\n"
        "there (\"= tcp://127.0.0.1:4567 dev/main weight 100\"), then each instance that appears\n"
        "(\"+ ...\") or leaves (\"- ...\"), until --count changes, --for milliseconds, or SIGINT/SIGTERM.\n"
        "--group shows only that group. --json prints one object per line:\n"
        "{event: present|added|removed, microServiceId, stage, group, address, weight, startTime}.\n"
        "Once it watches, it says so on stderr.");
    c.run = runWatch;
    return c;
}

} // namespace Cli
