// SPDX-License-Identifier: Apache-2.0
#include "consumermodel.h"

#include "clusterview.h"
#include "healthpoller.h"

#include <algorithm>
#include <tuple>

namespace Tomato {

namespace {
auto sortKey(const ConsumerInfo &c)
{
    return std::make_tuple(c.stage, c.group, c.host, c.pid, c.client);
}
bool before(const ConsumerInfo &a, const ConsumerInfo &b)
{
    return sortKey(a) < sortKey(b);
}
} // namespace

ConsumerModel::ConsumerModel(ClusterView *cluster, HealthPoller *poller, QObject *parent)
    : QAbstractListModel(parent), m_cluster(cluster), m_poller(poller)
{
    connect(cluster, &ClusterView::entryChanged, this, [this](const QString &id, const QString &) {
        if (id == m_service)
            sync();
    });
    if (poller)
        connect(poller, &HealthPoller::consumerChanged, this, &ConsumerModel::onConsumerChanged);
}

void ConsumerModel::setMicroServiceId(const QString &id)
{
    if (id == m_service)
        return;
    beginResetModel();
    m_service = id;
    m_rows.clear();
    endResetModel();
    sync();
    Q_EMIT countChanged();
}

QStringList ConsumerModel::statusAddresses() const
{
    QStringList out;
    for (const ConsumerInfo &c : m_rows) {
        if (!c.statusAddress.isEmpty() && !out.contains(c.statusAddress))
            out.append(c.statusAddress);
    }
    return out;
}

// Removes and inserts rows one by one to match the registry.
void ConsumerModel::sync()
{
    QList<ConsumerInfo> wanted;
    for (const RegistryServiceEntry *e : m_cluster->entries(m_service))
        wanted.append(e->consumers);
    std::sort(wanted.begin(), wanted.end(), before);
    const int oldCount = count();
    for (int row = count() - 1; row >= 0; --row) {
        if (!wanted.contains(m_rows[row])) {
            beginRemoveRows({}, row, row);
            m_rows.removeAt(row);
            endRemoveRows();
        }
    }
    for (const ConsumerInfo &c : wanted) {
        if (m_rows.contains(c))
            continue;
        const int row = int(std::lower_bound(m_rows.cbegin(), m_rows.cend(), c, before) - m_rows.cbegin());
        beginInsertRows({}, row, row);
        m_rows.insert(row, c);
        endInsertRows();
    }
    if (count() != oldCount)
        Q_EMIT countChanged();
}

void ConsumerModel::onConsumerChanged(const QString &statusAddress)
{
    for (int row = 0; row < count(); ++row) {
        if (m_rows[row].statusAddress == statusAddress)
            Q_EMIT dataChanged(index(row), index(row), {BreakerStateRole, BreakerSummaryRole});
    }
}

int ConsumerModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : count();
}

QVariant ConsumerModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const ConsumerInfo &c = m_rows[index.row()];
    const ConsumerHealth *health = m_poller && !c.statusAddress.isEmpty() ? m_poller->consumer(c.statusAddress) : nullptr;
    switch (role) {
    case StageRole: return c.stage;
    case GroupRole: return c.group;
    case Qt::DisplayRole:
    case HostRole: return c.host;
    case PidRole: return c.pid;
    case ApplicationRole: return c.application;
    case StatusAddressRole: return c.statusAddress;
    case ClientRole: return c.client;
    case BreakerStateRole:
        if (c.statusAddress.isEmpty())
            return QStringLiteral("none");
        if (!health || !health->answered || health->circuits.isEmpty())
            return QStringLiteral("unknown");
        return health->circuits.size() == 1 ? health->circuits.constBegin().key() : QStringLiteral("mixed");
    case BreakerSummaryRole: {
        if (c.statusAddress.isEmpty())
            return QStringLiteral("no status page");
        if (!health)
            return QStringLiteral("asking %1").arg(c.statusAddress);
        if (!health->answered)
            return QStringLiteral("not answering: %1").arg(health->reason);
        QStringList parts;
        for (const char *state : {"closed", "half-open", "open"}) {
            const int n = health->circuits.value(QLatin1String(state));
            if (n > 0)
                parts.append(QStringLiteral("%1 %2").arg(n).arg(QLatin1String(state)));
        }
        return parts.isEmpty() ? QStringLiteral("no invoker yet") : parts.join(QStringLiteral(", "));
    }
    default:
        return {};
    }
}

QHash<int, QByteArray> ConsumerModel::roleNames() const
{
    return {{StageRole, "stage"},
            {GroupRole, "group"},
            {HostRole, "host"},
            {PidRole, "pid"},
            {ApplicationRole, "application"},
            {StatusAddressRole, "statusAddress"},
            {ClientRole, "client"},
            {BreakerStateRole, "breakerState"},
            {BreakerSummaryRole, "breakerSummary"}};
}

} // namespace Tomato
