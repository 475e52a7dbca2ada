// SPDX-License-Identifier: Apache-2.0
#include <tomato/status/nodeintrospection_p.h>

#include <tomato/core/version.h>
#include <tomato/status/metrics_p.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QDateTime>
#include <QtCore/QSysInfo>

#include <algorithm>
#include <map>

namespace Tomato {

Introspection::~Introspection() = default;

namespace {
// The process's start, as near as the library can tell: when it was first loaded.
const qint64 processStart = QDateTime::currentMSecsSinceEpoch();
} // namespace

NodeIntrospection::NodeIntrospection(std::weak_ptr<StatusSource> server, QObject *parent)
    : Introspection(parent), m_forOneServer(!server.expired()), m_server(std::move(server))
{
}

NodeIntrospection::~NodeIntrospection() = default;

QList<std::shared_ptr<StatusSource>> NodeIntrospection::servers() const
{
    if (m_forOneServer) {
        if (auto s = m_server.lock())
            return {s};
        return {};
    }
    QList<std::shared_ptr<StatusSource>> out;
    for (auto &s : StatusSources::all()) {
        if (s->kind() == StatusSource::Kind::Server)
            out.append(std::move(s));
    }
    return out;
}

QList<std::shared_ptr<StatusSource>> NodeIntrospection::clients()
{
    QList<std::shared_ptr<StatusSource>> out;
    for (auto &s : StatusSources::all()) {
        if (s->kind() == StatusSource::Kind::Client)
            out.append(std::move(s));
    }
    return out;
}

QString NodeIntrospection::readinessName(StatusSource::Readiness readiness)
{
    switch (readiness) {
    case StatusSource::Readiness::Ready: return QStringLiteral("ready");
    case StatusSource::Readiness::Starting: return QStringLiteral("starting");
    case StatusSource::Readiness::Draining: return QStringLiteral("draining");
    }
    return QStringLiteral("starting");
}

// Ready when every server part is. A process that never had a server is ready once it runs;
// one whose servers are gone is draining.
StatusSource::Readiness NodeIntrospection::readiness() const
{
    const auto parts = servers();
    if (parts.isEmpty())
        return m_forOneServer || StatusSources::hadServer() ? StatusSource::Readiness::Draining
                                                            : StatusSource::Readiness::Ready;
    StatusSource::Readiness worst = StatusSource::Readiness::Ready;
    for (const auto &s : parts) {
        const auto r = s->readiness();
        if (r == StatusSource::Readiness::Draining)
            return r;
        if (r == StatusSource::Readiness::Starting)
            worst = r;
    }
    return worst;
}

QVariantMap NodeIntrospection::node()
{
    QVariantMap node;
    const auto parts = servers();
    if (!parts.isEmpty()) {
        node = parts.first()->identity();
    } else {
        const auto c = clients();
        if (!c.isEmpty())
            node = c.first()->identity();
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    node.insert(QStringLiteral("application"), QCoreApplication::applicationName());
    node.insert(QStringLiteral("pid"), QCoreApplication::applicationPid());
    node.insert(QStringLiteral("hostName"), QSysInfo::machineHostName());
    node.insert(QStringLiteral("version"), QStringLiteral(TOMATO_VERSION_STRING));
    node.insert(QStringLiteral("qtVersion"), QString::fromLatin1(qVersion()));
    node.insert(QStringLiteral("processStartedAt"), processStart);
    const qint64 started = node.value(QStringLiteral("startedAt")).toLongLong();
    node.insert(QStringLiteral("uptimeSeconds"), started > 0 ? (now - started) / 1000 : (now - processStart) / 1000);
    const auto r = readiness();
    node.insert(QStringLiteral("ready"), r == StatusSource::Readiness::Ready);
    node.insert(QStringLiteral("readiness"), readinessName(r));
    node.insert(QStringLiteral("servers"), int(parts.size()));
    node.insert(QStringLiteral("clients"), int(clients().size()));
    return node;
}

QVariantList NodeIntrospection::services()
{
    QVariantList out;
    for (const auto &s : servers())
        out += s->services();
    return out;
}

// Tomato-RPC's shape: [{"stage": s, "groups": {"<group>": [invoker, ...]}}], stages in name
// order, invokers in address order within a group.
QVariantList NodeIntrospection::invokers(const QString &microServiceId)
{
    std::map<QString, std::map<QString, QVariantList>> byStage;
    for (const auto &c : clients()) {
        const QVariantList flat = c->invokers(microServiceId);
        for (const QVariant &v : flat) {
            const QVariantMap invoker = v.toMap();
            byStage[invoker.value(QStringLiteral("stage")).toString()][invoker.value(QStringLiteral("group")).toString()]
                .append(invoker);
        }
    }
    QVariantList out;
    for (auto &[stage, groups] : byStage) {
        QVariantMap groupMap;
        for (auto &[group, list] : groups) {
            std::stable_sort(list.begin(), list.end(), [](const QVariant &a, const QVariant &b) {
                const QVariantMap ma = a.toMap(), mb = b.toMap();
                const QString ha = ma.value(QStringLiteral("host")).toString(), hb = mb.value(QStringLiteral("host")).toString();
                if (ha != hb)
                    return ha < hb;
                return ma.value(QStringLiteral("port")).toInt() < mb.value(QStringLiteral("port")).toInt();
            });
            groupMap.insert(group, list);
        }
        out.append(QVariantMap{{QStringLiteral("stage"), stage}, {QStringLiteral("groups"), groupMap}});
    }
    return out;
}

QVariantMap NodeIntrospection::statistics()
{
    const auto parts = servers();
    return parts.isEmpty() ? QVariantMap() : parts.first()->statistics();
}

QByteArray NodeIntrospection::metricsText() const
{
    MetricsWriter w;
    w.gauge("tomato_build_info", "Tomato RPC library and Qt versions of this process (always 1).",
            {{"version", QStringLiteral(TOMATO_VERSION_STRING)}, {"qt_version", QString::fromLatin1(qVersion())}}, 1);
    w.gauge("tomato_process_start_time_seconds", "When the library was loaded, in seconds since the Unix epoch.", {},
            double(processStart) / 1000.0);
    w.gauge("tomato_ready", "1 when the node is ready (listening, and registered when it has a registry), else 0.", {},
            readiness() == StatusSource::Readiness::Ready ? 1 : 0);
    // Several servers or clients in one page (the status port of a process that has more than
    // one) keep their series apart by a label, each part's serial in the process (stable while
    // it lives); one alone needs none.
    auto write = [&w](const QList<std::shared_ptr<StatusSource>> &parts, const char *label) {
        for (const auto &part : parts) {
            w.setCommonLabels(parts.size() > 1
                                  ? MetricLabels{{label, part->identity().value(QLatin1String(label)).toString()}}
                                  : MetricLabels{});
            part->writeMetrics(w);
        }
        w.setCommonLabels({});
    };
    write(servers(), "server");
    write(clients(), "client");
    return w.text();
}

QString NodeIntrospection::metrics()
{
    return QString::fromUtf8(metricsText());
}

} // namespace Tomato
