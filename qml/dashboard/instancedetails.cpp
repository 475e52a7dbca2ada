// SPDX-License-Identifier: Apache-2.0
#include "instancedetails.h"

#include "clusterview.h"
#include "healthpoller.h"
#include "invokermodel.h"

#include <QtCore/QDateTime>

namespace Tomato {

InstanceDetails::InstanceDetails(ClusterView *cluster, HealthPoller *poller, int historyIntervalMs, QObject *parent)
    : QObject(parent), m_cluster(cluster), m_poller(poller), m_historyIntervalMs(historyIntervalMs)
{
    connect(cluster, &ClusterView::entryChanged, this, &InstanceDetails::changed);
    if (poller) {
        connect(poller, &HealthPoller::healthChanged, this, [this](const QString &address) {
            if (address == m_address)
                Q_EMIT changed();
        });
    }
}

void InstanceDetails::setAddress(const QString &address)
{
    if (address == m_address)
        return;
    m_address = address;
    Q_EMIT addressChanged();
    Q_EMIT changed();
}

const InstanceHealth *InstanceDetails::health() const
{
    return m_poller ? m_poller->health(m_address) : nullptr;
}

InstanceDetails::Where InstanceDetails::where() const
{
    if (m_address.isEmpty())
        return {};
    for (const QString &id : m_cluster->serviceIds()) {
        for (const RegistryServiceEntry *e : m_cluster->entries(id)) {
            for (const InstanceInfo &i : e->providers) {
                if (i.address() != m_address)
                    continue;
                const auto o = e->overrides.constFind(m_address);
                return Where{id, e->stage, i.group(), i.transport(), o != e->overrides.cend() && o->disabled};
            }
        }
    }
    return {};
}

bool InstanceDetails::isKnown() const { return !where().service.isEmpty(); }
QString InstanceDetails::microServiceId() const { return where().service; }
QString InstanceDetails::stage() const { return where().stage; }
QString InstanceDetails::group() const { return where().group; }
QString InstanceDetails::transport() const { return where().transport; }

bool InstanceDetails::isLoaded() const
{
    const InstanceHealth *h = health();
    return h && h->state != QLatin1String("unknown");
}

QString InstanceDetails::state() const
{
    const InstanceHealth *h = health();
    return InvokerModel::stateOf(where().disabled, h ? h->state : QStringLiteral("unknown"));
}

QString InstanceDetails::stateReason() const
{
    const InstanceHealth *h = health();
    return h ? h->reason : QString();
}

QVariantMap InstanceDetails::node() const
{
    const InstanceHealth *h = health();
    return h ? h->node : QVariantMap();
}

QVariantList InstanceDetails::services() const
{
    const InstanceHealth *h = health();
    QVariantList out;
    if (!h)
        return out;
    for (const QVariant &s : h->services) {
        if (!s.toMap().value(QStringLiteral("builtin")).toBool())
            out.append(s);
    }
    return out;
}

QString InstanceDetails::metricsText() const
{
    const InstanceHealth *h = health();
    return h ? h->metricsText : QString();
}

QVariantList InstanceDetails::history(double HealthSample::*value) const
{
    QVariantList out;
    if (const InstanceHealth *h = health()) {
        for (const HealthSample &s : h->history)
            out.append(s.gap ? -1.0 : s.*value); // a break in the line
    }
    return out;
}

QVariantList InstanceDetails::callsHistory() const
{
    return history(&HealthSample::callsPerSecond);
}

QVariantList InstanceDetails::p99History() const
{
    return history(&HealthSample::p99Ms);
}

QVariantList InstanceDetails::recentErrors() const
{
    QVariantList out;
    if (const InstanceHealth *h = health()) {
        for (auto it = h->errors.crbegin(); it != h->errors.crend(); ++it) {
            out.append(QVariantMap{
                {QStringLiteral("time"), QDateTime::fromMSecsSinceEpoch(it->at).toString(QStringLiteral("HH:mm:ss"))},
                {QStringLiteral("method"), it->method},
                {QStringLiteral("code"), it->code},
                {QStringLiteral("count"), it->count}});
        }
    }
    return out;
}

double InstanceDetails::callsPerSecond() const
{
    const InstanceHealth *h = health();
    return h ? h->latest().callsPerSecond : 0;
}

double InstanceDetails::errorRate() const
{
    const InstanceHealth *h = health();
    return h ? h->latest().errorRate : 0;
}

double InstanceDetails::p99Ms() const
{
    const InstanceHealth *h = health();
    return h && !h->history.empty() ? h->latest().p99Ms : -1;
}

int InstanceDetails::inFlight() const
{
    const InstanceHealth *h = health();
    return h ? int(h->latest().inFlight) : 0;
}

} // namespace Tomato
