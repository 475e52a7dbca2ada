// SPDX-License-Identifier: Apache-2.0
#pragma once
// An independent view of a ZooKeeper tree for integration tests: the ZooKeeper C client used
// directly and synchronously, not our registry code.
#include <QtCore/QByteArray>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QStringList>
#include <QtCore/QThread>

#include <zookeeper/zookeeper.h>

#include <atomic>
#include <optional>
#include <utility>

// Synchronous ZooKeeper client for checking the tree.
class ZooKeeperReader
{
public:
    // `credentials`: "user:password" to authenticate with (digest), or none.
    explicit ZooKeeperReader(const QString &hosts, const QByteArray &credentials = {})
    {
        m_zh = zookeeper_init(hosts.toUtf8().constData(), nullptr, 10000, nullptr, nullptr, 0);
        QDeadlineTimer deadline(10000);
        while (m_zh && zoo_state(m_zh) != ZOO_CONNECTED_STATE && !deadline.hasExpired())
            QThread::msleep(20);
        if (m_zh && !credentials.isEmpty()) {
            std::atomic<int> rc{-1000};
            zoo_add_auth(m_zh, "digest", credentials.constData(), int(credentials.size()),
                         [](int result, const void *data) {
                             static_cast<std::atomic<int> *>(const_cast<void *>(data))->store(result);
                         }, &rc);
            while (rc.load() == -1000 && !deadline.hasExpired())
                QThread::msleep(5);
        }
    }
    ~ZooKeeperReader()
    {
        if (m_zh)
            zookeeper_close(m_zh);
    }
    bool connected() const { return m_zh && zoo_state(m_zh) == ZOO_CONNECTED_STATE; }
    QStringList children(const QString &path)
    {
        String_vector v{};
        QStringList out;
        if (zoo_get_children(m_zh, path.toUtf8().constData(), 0, &v) == ZOK) {
            for (int i = 0; i < v.count; ++i)
                out << QString::fromUtf8(v.data[i]);
            deallocate_String_vector(&v);
        }
        return out;
    }
    // Node data, and whether the node is ephemeral; nullopt when absent.
    std::optional<std::pair<QByteArray, bool>> node(const QString &path)
    {
        char buffer[4096];
        int len = sizeof buffer;
        Stat stat{};
        if (zoo_get(m_zh, path.toUtf8().constData(), 0, buffer, &len, &stat) != ZOK)
            return std::nullopt;
        return std::make_pair(QByteArray(buffer, qMax(0, len)), stat.ephemeralOwner != 0);
    }
    bool remove(const QString &path) { return zoo_delete(m_zh, path.toUtf8().constData(), -1) == ZOK; }
    // Removes a node and everything below it, as an operator's script might.
    bool removeTree(const QString &path)
    {
        for (const QString &child : children(path)) {
            if (!removeTree(path + QLatin1Char('/') + child))
                return false;
        }
        return remove(path);
    }
    // A persistent node that only holders of this reader's credentials may use at all (not even read).
    int createPrivate(const QString &path)
    {
        return zoo_create(m_zh, path.toUtf8().constData(), nullptr, -1, &ZOO_CREATOR_ALL_ACL, ZOO_PERSISTENT, nullptr, 0);
    }
    int removeCode(const QString &path) { return zoo_delete(m_zh, path.toUtf8().constData(), -1); }
    int setCode(const QString &path, const QByteArray &data)
    {
        return zoo_set(m_zh, path.toUtf8().constData(), data.constData(), int(data.size()), -1);
    }
    int createCode(const QString &path)
    {
        return zoo_create(m_zh, path.toUtf8().constData(), "x", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, nullptr, 0);
    }
    // Writes a persistent node with any data, making its parents: what an operator's script
    // might do by hand.
    int put(const QString &path, const QByteArray &data)
    {
        const QByteArray p = path.toUtf8();
        for (qsizetype i = p.indexOf('/', 1); i > 0; i = p.indexOf('/', i + 1))
            zoo_create(m_zh, p.left(i).constData(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr, 0);
        const int rc = zoo_create(m_zh, p.constData(), data.constData(), int(data.size()), &ZOO_OPEN_ACL_UNSAFE,
                                  ZOO_PERSISTENT, nullptr, 0);
        return rc == ZNODEEXISTS ? setCode(path, data) : rc;
    }
    // "scheme:id=perms" of each ACL entry of the node, sorted.
    QStringList acl(const QString &path)
    {
        ACL_vector acl{};
        Stat stat{};
        QStringList out;
        if (zoo_get_acl(m_zh, path.toUtf8().constData(), &acl, &stat) != ZOK)
            return out;
        for (int i = 0; i < acl.count; ++i)
            out << QStringLiteral("%1:%2=%3").arg(QString::fromUtf8(acl.data[i].id.scheme),
                                                  QString::fromUtf8(acl.data[i].id.id)).arg(acl.data[i].perms);
        deallocate_ACL_vector(&acl);
        out.sort();
        return out;
    }

private:
    zhandle_t *m_zh = nullptr;
};
