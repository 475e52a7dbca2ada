// SPDX-License-Identifier: Apache-2.0
#pragma once
// Test hosts on one machine: Linux network namespaces joined by veth pairs, each host with
// addresses of its own (tests/integration/tst_partitions.cpp).
//
// The networks are bridges in a namespace of their own, the "switch": a fresh namespace has
// no firewall rules, so the machine's own (Docker's FORWARD policy DROP with br_netfilter, say)
// cannot drop the hosts' traffic. A host has one interface per network it is on ("rpc0",
// "zk0" inside its namespace); the other end of each veth is a port of that network's bridge.
// Cutting a link sets the switch-side end down: the host keeps its address and its routes, its
// packets go nowhere, nothing is refused (a pulled cable, a dead switch port). A partition
// moves some ports of a bridge to a second bridge: each side still talks to itself. This
// process reaches one network through a veth of its own (address .254 there).
//
// Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2's `ip`; unavailable() says what
// is missing. Every name carries this process's pid, so that runs never collide, and what a
// dead run left behind is removed first. Used on the test thread only.
#include <QtCore/QFileInfo>
#include <QtCore/QMap>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QStandardPaths>
#include <QtCore/QStringList>

#include <unistd.h>

class NetLab
{
public:
    // One test host: a namespace, and its address on each network it is on.
    struct Host
    {
        QString name;                    // short: "zk1", "p2", "c1"
        QString ns;                      // the namespace: tomato-pt<pid>-<name>
        QMap<QString, QString> address;  // network -> IPv4 address
        QMap<QString, QString> port;     // network -> its port in the switch: "<name>-<network>"
    };

    // Why namespaces cannot be made here, or empty when they can (tried for real).
    static QString unavailable()
    {
        if (::geteuid() != 0)
            return QStringLiteral("not root (network namespaces and veth pairs need CAP_SYS_ADMIN and CAP_NET_ADMIN)");
        if (ipProgram().isEmpty())
            return QStringLiteral("no `ip` program (iproute2) in PATH, /usr/sbin or /sbin");
        const QString probe = QStringLiteral("tomato-pt%1-probe").arg(::getpid());
        QString error;
        if (!ip({QStringLiteral("netns"), QStringLiteral("add"), probe}, &error))
            return QStringLiteral("`ip netns add` failed: ") + error;
        const bool made =
            ip({QStringLiteral("-n"), probe, QStringLiteral("link"), QStringLiteral("add"), QStringLiteral("br0"),
                QStringLiteral("type"), QStringLiteral("bridge")},
               &error)
            && ip({QStringLiteral("link"), QStringLiteral("add"), QStringLiteral("tpt%1pv").arg(::getpid()),
                   QStringLiteral("type"), QStringLiteral("veth"), QStringLiteral("peer"), QStringLiteral("name"),
                   QStringLiteral("eth0"), QStringLiteral("netns"), probe},
                  &error);
        ip({QStringLiteral("link"), QStringLiteral("del"), QStringLiteral("tpt%1pv").arg(::getpid())});
        ip({QStringLiteral("netns"), QStringLiteral("del"), probe});
        if (!made)
            return QStringLiteral("bridges or veth pairs cannot be made: ") + error;
        return {};
    }

    // Removes namespaces and veths of earlier runs whose process is gone.
    static void removeStale()
    {
        const auto dead = [](const QString &pid) { return !QFileInfo::exists(QStringLiteral("/proc/") + pid); };
        QString out;
        ip({QStringLiteral("netns"), QStringLiteral("list")}, nullptr, &out);
        static const QRegularExpression nsName(QStringLiteral("^(tomato-pt(\\d+)-\\S+)"),
                                               QRegularExpression::MultilineOption);
        for (auto it = nsName.globalMatch(out); it.hasNext();) {
            const auto m = it.next();
            if (dead(m.captured(2)))
                ip({QStringLiteral("netns"), QStringLiteral("del"), m.captured(1)});
        }
        ip({QStringLiteral("-o"), QStringLiteral("link"), QStringLiteral("show")}, nullptr, &out);
        static const QRegularExpression linkName(QStringLiteral("^\\d+: (tpt(\\d+)[a-z]+)[@:]"),
                                                 QRegularExpression::MultilineOption);
        for (auto it = linkName.globalMatch(out); it.hasNext();) {
            const auto m = it.next();
            if (dead(m.captured(2)))
                ip({QStringLiteral("link"), QStringLiteral("del"), m.captured(1)});
        }
    }

    NetLab()
        : m_switch(QStringLiteral("tomato-pt%1-switch").arg(::getpid())),
          m_rootPort(QStringLiteral("tpt%1obs").arg(::getpid()))
    {
    }
    ~NetLab() { tearDown(); }
    NetLab(const NetLab &) = delete;
    NetLab &operator=(const NetLab &) = delete;

    // The switch and its networks, each a bridge and a /24 of its own: 10.77.<n>.0/24 with a
    // third octet no route or address of this machine uses yet. This process joins `rootOn`
    // (address .254 there), to reach its hosts. False with `error` set.
    bool addNetworks(const QStringList &networks, const QString &rootOn, QString *error)
    {
        QString routes;
        ip({QStringLiteral("-4"), QStringLiteral("route"), QStringLiteral("show"), QStringLiteral("table"),
            QStringLiteral("all")},
           nullptr, &routes);
        QString addresses;
        ip({QStringLiteral("-4"), QStringLiteral("-o"), QStringLiteral("addr")}, nullptr, &addresses);
        if (!ip({QStringLiteral("netns"), QStringLiteral("add"), m_switch}, error))
            return false;
        m_switchMade = true;
        int octet = int(::getpid() % 200) + 20;
        for (const QString &net : networks) {
            for (int tries = 0;; ++tries) {
                const QString prefix = QStringLiteral("10.77.%1.").arg(octet);
                octet = octet >= 250 ? 20 : octet + 1;
                if (!routes.contains(prefix) && !addresses.contains(prefix)) {
                    m_subnet.insert(net, prefix);
                    break;
                }
                if (tries > 240) {
                    *error = QStringLiteral("no free 10.77.x.0/24 subnet");
                    return false;
                }
            }
            if (!addBridge(QStringLiteral("br-") + net, error))
                return false;
        }
        return ip({QStringLiteral("link"), QStringLiteral("add"), m_rootPort, QStringLiteral("type"), QStringLiteral("veth"),
                   QStringLiteral("peer"), QStringLiteral("name"), QStringLiteral("root-") + rootOn, QStringLiteral("netns"),
                   m_switch},
                  error)
            && sw({QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("root-") + rootOn, QStringLiteral("master"),
                   QStringLiteral("br-") + rootOn, QStringLiteral("up")},
                  error)
            && ip({QStringLiteral("addr"), QStringLiteral("add"), m_subnet.value(rootOn) + QStringLiteral("254/24"),
                   QStringLiteral("dev"), m_rootPort},
                  error)
            && ip({QStringLiteral("link"), QStringLiteral("set"), m_rootPort, QStringLiteral("up")}, error);
    }

    // A host on some of the networks, with the last octet `octet` on each.
    bool addHost(const QString &name, int octet, const QStringList &networks, QString *error)
    {
        Host h;
        h.name = name;
        h.ns = QStringLiteral("tomato-pt%1-%2").arg(::getpid()).arg(name);
        if (!ip({QStringLiteral("netns"), QStringLiteral("add"), h.ns}, error))
            return false;
        m_hosts.insert(name, h);
        if (!ip({QStringLiteral("-n"), h.ns, QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("lo"),
                 QStringLiteral("up")},
                error))
            return false;
        for (const QString &net : networks) {
            const QString port = name + QLatin1Char('-') + net; // in the switch
            const QString inside = net + QStringLiteral("0");
            const QString address = m_subnet.value(net) + QString::number(octet);
            if (port.size() > 15) {
                *error = QStringLiteral("interface name %1 is longer than 15 characters").arg(port);
                return false;
            }
            if (!sw({QStringLiteral("link"), QStringLiteral("add"), port, QStringLiteral("type"), QStringLiteral("veth"),
                     QStringLiteral("peer"), QStringLiteral("name"), inside, QStringLiteral("netns"), h.ns},
                    error)
                || !sw({QStringLiteral("link"), QStringLiteral("set"), port, QStringLiteral("master"),
                        QStringLiteral("br-") + net, QStringLiteral("up")},
                       error)
                || !ip({QStringLiteral("-n"), h.ns, QStringLiteral("addr"), QStringLiteral("add"),
                        address + QStringLiteral("/24"), QStringLiteral("dev"), inside},
                       error)
                || !ip({QStringLiteral("-n"), h.ns, QStringLiteral("link"), QStringLiteral("set"), inside,
                        QStringLiteral("up")},
                       error))
                return false;
            m_hosts[name].address.insert(net, address);
            m_hosts[name].port.insert(net, port);
        }
        return true;
    }

    const Host &host(const QString &name) const { return m_hosts.find(name).value(); }
    QString address(const QString &name, const QString &net) const { return host(name).address.value(net); }

    // The arguments of `ip` that run `program arguments...` inside a host: `netns exec <ns> ...`
    // (iproute2 execs, it does not fork: the process id is the program's).
    QStringList execArguments(const QString &name, const QString &program, const QStringList &arguments) const
    {
        return QStringList{QStringLiteral("netns"), QStringLiteral("exec"), host(name).ns, program} + arguments;
    }
    static QString ipProgram()
    {
        QString found = QStandardPaths::findExecutable(QStringLiteral("ip"));
        if (found.isEmpty())
            found = QStandardPaths::findExecutable(QStringLiteral("ip"), {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin")});
        return found;
    }

    // Cuts (down) or restores (up) a host's link to one network, or to all of them (`net` empty).
    bool setLink(const QString &name, const QString &net, bool up, QString *error = nullptr)
    {
        const Host &h = host(name);
        const QStringList nets = net.isEmpty() ? h.port.keys() : QStringList{net};
        bool ok = true;
        for (const QString &n : nets)
            ok = sw({QStringLiteral("link"), QStringLiteral("set"), h.port.value(n),
                     up ? QStringLiteral("up") : QStringLiteral("down")},
                    error)
                && ok;
        return ok;
    }

    // Moves the given hosts' ports of `net` to a bridge of their own (a partition: the hosts
    // moved talk to each other only); heal() moves them back.
    bool partition(const QString &net, const QStringList &minority, QString *error = nullptr)
    {
        const QString other = QStringLiteral("br-") + net + QStringLiteral("-m");
        if (!m_minorityBridges.contains(other)) {
            if (!addBridge(other, error))
                return false;
            m_minorityBridges << other;
        }
        bool ok = true;
        for (const QString &name : minority) {
            ok = sw({QStringLiteral("link"), QStringLiteral("set"), host(name).port.value(net), QStringLiteral("master"), other},
                    error)
                && ok;
            m_moved[net] << name;
        }
        return ok;
    }
    bool heal(const QString &net, QString *error = nullptr)
    {
        bool ok = true;
        for (const QString &name : m_moved.take(net))
            ok = sw({QStringLiteral("link"), QStringLiteral("set"), host(name).port.value(net), QStringLiteral("master"),
                     QStringLiteral("br-") + net},
                    error)
                && ok;
        return ok;
    }

    // Every link up and every partition healed.
    void restoreAll()
    {
        for (const QString &net : m_moved.keys())
            heal(net);
        for (const Host &h : std::as_const(m_hosts))
            setLink(h.name, {}, true);
    }

    // The namespaces gone, and with them the veths and bridges. Processes still running in a
    // namespace keep it alive: stop them first.
    void tearDown()
    {
        for (const Host &h : std::as_const(m_hosts))
            ip({QStringLiteral("netns"), QStringLiteral("del"), h.ns});
        m_hosts.clear();
        if (m_switchMade) {
            ip({QStringLiteral("netns"), QStringLiteral("del"), m_switch});
            // A namespace outlives its name while the kernel holds it (a closed socket still
            // retransmitting its FIN to a host already gone): our end goes now all the same.
            ip({QStringLiteral("link"), QStringLiteral("del"), m_rootPort});
            m_switchMade = false;
        }
    }

    // Runs `ip arguments...`; false with the error output in `error` when it fails.
    static bool ip(const QStringList &arguments, QString *error = nullptr, QString *out = nullptr)
    {
        QProcess p;
        p.start(ipProgram(), arguments);
        const bool finished = p.waitForStarted(10000) && p.waitForFinished(20000);
        if (out)
            *out = QString::fromLocal8Bit(p.readAllStandardOutput());
        if (finished && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0)
            return true;
        if (error)
            *error = QStringLiteral("ip %1: %2").arg(arguments.join(QLatin1Char(' ')),
                                                     QString::fromLocal8Bit(p.readAllStandardError()).trimmed()
                                                         + (finished ? QString() : QStringLiteral(" (did not finish)")));
        return false;
    }

private:
    // `ip arguments...` in the switch.
    bool sw(const QStringList &arguments, QString *error) const
    {
        return ip(QStringList{QStringLiteral("-n"), m_switch} + arguments, error);
    }
    bool addBridge(const QString &bridge, QString *error) const
    {
        return sw({QStringLiteral("link"), QStringLiteral("add"), bridge, QStringLiteral("type"), QStringLiteral("bridge"),
                   QStringLiteral("forward_delay"), QStringLiteral("0")},
                  error)
            && sw({QStringLiteral("link"), QStringLiteral("set"), bridge, QStringLiteral("up")}, error);
    }

    QString m_switch;                // the namespace of the bridges
    QString m_rootPort;              // this process's veth: tpt<pid>obs
    bool m_switchMade = false;
    QMap<QString, QString> m_subnet; // network -> "10.77.n."
    QMap<QString, Host> m_hosts;
    QStringList m_minorityBridges;
    QMap<QString, QStringList> m_moved; // network -> hosts on the partition's other bridge
};
