// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <tomato/registry/consumerinfo.h>

namespace Tomato {

class ClusterView;
class HealthPoller;

// The consumers (clients) of one micro-service, sorted by stage, group, host and pid; rows
// inserted and removed one by one.
// Roles: stage, group, host, pid, application, statusAddress ("" when it has no status
// page), client, breakerState ("closed", "open", "half-open", "mixed", "unknown": no answer
// yet or none, "none": no status page), breakerSummary ("2 closed, 1 open").
//
// Threads: the GUI thread.
class ConsumerModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by Dashboard")
    Q_PROPERTY(int count READ count NOTIFY countChanged)
public:
    enum Role { StageRole = Qt::UserRole + 1, GroupRole, HostRole, PidRole, ApplicationRole, StatusAddressRole,
                ClientRole, BreakerStateRole, BreakerSummaryRole };
    ConsumerModel(ClusterView *cluster, HealthPoller *poller, QObject *parent = nullptr);

    void setMicroServiceId(const QString &id);
    int count() const { return int(m_rows.size()); }
    QStringList statusAddresses() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

Q_SIGNALS:
    void countChanged();

private:
    void sync();
    void onConsumerChanged(const QString &statusAddress);

    ClusterView *m_cluster;
    HealthPoller *m_poller;
    QString m_service;
    QList<ConsumerInfo> m_rows;
};

} // namespace Tomato
