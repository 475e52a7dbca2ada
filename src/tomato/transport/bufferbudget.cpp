// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/bufferbudget_p.h>

#include <tomato/core/logging_p.h>

#include <algorithm>

namespace Tomato {

using Clock = std::chrono::steady_clock;

// ---- BudgetAccount -----------------------------------------------------------------------

BudgetAccount::BudgetAccount(std::shared_ptr<BufferBudget> budget, QObject *owner, BudgetOwner *callbacks)
    : m_budget(std::move(budget)), m_owner(owner), m_callbacks(callbacks)
{
    m_budget->add(this);
}

BudgetAccount::~BudgetAccount()
{
    m_budget->remove(this);
    const qint64 held = m_frame.exchange(0) + m_answers.exchange(0);
    if (held != 0)
        m_budget->give(held);
}

// m_frame changes by read-modify-write only: the budget may add to it from another thread,
// when it grants a waiter what it waits for.
bool BudgetAccount::reserveFrame(qint64 bytes, bool large)
{
    const qint64 have = m_frame.load(std::memory_order_relaxed);
    if (bytes <= have)
        return true;
    if (!m_budget->tryTake(bytes - have, large))
        return false;
    m_frame.fetch_add(bytes - have, std::memory_order_relaxed);
    return true;
}

void BudgetAccount::shrinkFrame(qint64 bytes)
{
    const qint64 have = m_frame.load(std::memory_order_relaxed);
    if (bytes >= have)
        return;
    m_frame.fetch_sub(have - bytes, std::memory_order_relaxed);
    m_budget->give(have - bytes);
}

void BudgetAccount::addAnswerBytes(qint64 delta)
{
    if (delta == 0)
        return;
    m_answers.fetch_add(delta, std::memory_order_relaxed);
    if (delta > 0)
        m_budget->force(delta);
    else
        m_budget->give(-delta);
}

bool BudgetAccount::reserveOrWait(qint64 target, qint64 held, bool large)
{
    qint64 returned = 0;
    {
        QMutexLocker lock(&m_budget->m_mutex);
        if (m_need > 0 || m_detached)
            return false;
        const qint64 have = m_frame.load(std::memory_order_relaxed);
        if (target <= have)
            return true;
        if (m_budget->tryTake(target - have, large)) {
            m_frame.fetch_add(target - have, std::memory_order_relaxed);
            return true;
        }
        if (held < have) { // a partial reservation would hold room nobody can use
            returned = have - held;
            m_frame.fetch_sub(returned, std::memory_order_relaxed);
            m_budget->m_used.fetch_sub(returned, std::memory_order_seq_cst);
        }
        m_budget->queueLocked(this, target - qMin(held, have), large);
    }
    m_budget->wakeWaiters(); // room may have freed meanwhile (ours, or another's)
    return false;
}

void BudgetAccount::waitForRoom(qint64 more, bool large)
{
    m_budget->enqueueWaiter(this, more, large);
}

bool BudgetAccount::isWaiting() const
{
    QMutexLocker lock(&m_budget->m_mutex);
    return m_need > 0;
}

void BudgetAccount::detach()
{
    {
        QMutexLocker lock(&m_ownerMutex);
        m_owner = nullptr;
    }
    {
        QMutexLocker lock(&m_budget->m_mutex);
        m_detached = true; // on its way out: nothing to evict
        if (m_need > 0) {
            m_need = 0;
            m_budget->m_waiters.erase(std::remove(m_budget->m_waiters.begin(), m_budget->m_waiters.end(), this),
                                      m_budget->m_waiters.end());
            m_budget->m_waiterCount.fetch_sub(1);
        }
    }
    shrinkFrame(0); // the answers are given back as the outbox drops them
}

// The owner is alive while we hold the mutex; an event for it is dropped if it dies later, so
// the callbacks (the owner itself) are never reached dead.
void BudgetAccount::postRoom()
{
    QMutexLocker lock(&m_ownerMutex);
    if (m_owner)
        QMetaObject::invokeMethod(m_owner, [c = m_callbacks] { c->onBudgetRoom(); }, Qt::QueuedConnection);
}

void BudgetAccount::postEvict(const QString &why)
{
    QMutexLocker lock(&m_ownerMutex);
    if (m_owner)
        QMetaObject::invokeMethod(m_owner, [c = m_callbacks, why] { c->onBudgetEvict(why); }, Qt::QueuedConnection);
}

// ---- BufferBudget ------------------------------------------------------------------------

BufferBudget::BufferBudget(qint64 limit, int maxWaitMs) : m_limit(limit), m_maxWaitMs(maxWaitMs) { }

BufferBudget::~BufferBudget() = default;

bool BufferBudget::tryTake(qint64 bytes, bool large)
{
    const qint64 ceiling = large ? largeLimit() : m_limit;
    qint64 used = m_used.load(std::memory_order_seq_cst);
    do {
        if (used + bytes > ceiling)
            return false;
    } while (!m_used.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
}

void BufferBudget::force(qint64 bytes)
{
    m_used.fetch_add(bytes, std::memory_order_relaxed);
}

// Sequentially consistent with enqueueWaiter(): either this sees the new waiter, or the
// waiter's own look (wakeWaiters() after enqueuing) sees the room given back.
void BufferBudget::give(qint64 bytes)
{
    m_used.fetch_sub(bytes, std::memory_order_seq_cst);
    if (m_waiterCount.load(std::memory_order_seq_cst) > 0)
        wakeWaiters();
}

void BufferBudget::add(BudgetAccount *account)
{
    QMutexLocker lock(&m_mutex);
    m_accounts.push_back(account);
}

void BufferBudget::remove(BudgetAccount *account)
{
    QMutexLocker lock(&m_mutex);
    m_accounts.erase(std::remove(m_accounts.begin(), m_accounts.end(), account), m_accounts.end());
    if (account->m_need > 0) {
        m_waiters.erase(std::remove(m_waiters.begin(), m_waiters.end(), account), m_waiters.end());
        m_waiterCount.fetch_sub(1);
    }
}

void BufferBudget::enqueueWaiter(BudgetAccount *account, qint64 more, bool large)
{
    {
        QMutexLocker lock(&m_mutex);
        queueLocked(account, more, large);
    }
    // Room may have freed between the refusal and now.
    wakeWaiters();
}

void BufferBudget::queueLocked(BudgetAccount *account, qint64 more, bool large)
{
    if (account->m_need == 0) {
        m_waiters.push_back(account);
        m_waiterCount.fetch_add(1, std::memory_order_seq_cst);
        account->m_waitingSince = Clock::now();
        m_waits.fetch_add(1, std::memory_order_relaxed);
    }
    account->m_need = qMax<qint64>(1, more);
    account->m_needLarge = large;
}

int BufferBudget::waiting() const
{
    return m_waiterCount.load(std::memory_order_relaxed);
}

// Grants, oldest first, the waiters whose need fits what is free now: the room is taken for
// them (their reservation grows by it) before they are woken, so nobody can take it first and
// a waiter never loses its place. A large need that does not fit does not hold back smaller
// ones behind it.
void BufferBudget::wakeWaiters()
{
    QMutexLocker lock(&m_mutex);
    for (auto it = m_waiters.begin(); it != m_waiters.end();) {
        BudgetAccount *a = *it;
        if (!tryTake(a->m_need, a->m_needLarge)) {
            if (m_used.load(std::memory_order_relaxed) >= m_limit)
                return; // nothing fits anybody
            ++it;
            continue;
        }
        a->m_frame.fetch_add(a->m_need, std::memory_order_relaxed);
        a->m_need = 0;
        it = m_waiters.erase(it);
        m_waiterCount.fetch_sub(1);
        a->postRoom();
    }
}

int BufferBudget::evictIfStarved(Clock::time_point now)
{
    QMutexLocker lock(&m_mutex);
    if (m_waiters.empty())
        return 0;
    BudgetAccount *oldest = m_waiters.front();
    const qint64 ceiling = oldest->m_needLarge ? largeLimit() : m_limit;
    const qint64 missing0 = oldest->m_need - (ceiling - m_used.load(std::memory_order_relaxed));
    if (missing0 <= 0) { // it fits by now (a wake-up raced us): grant, do not evict
        lock.unlock();
        wakeWaiters();
        return 0;
    }
    if (m_maxWaitMs <= 0 || now - oldest->m_waitingSince < std::chrono::milliseconds(m_maxWaitMs)
        || oldest->m_need > ceiling)
        return 0;
    qint64 missing = missing0;

    std::vector<std::pair<qint64, BudgetAccount *>> holders;
    for (BudgetAccount *a : m_accounts) {
        const qint64 held = a->m_frame.load(std::memory_order_relaxed) + a->m_answers.load(std::memory_order_relaxed);
        if (a != oldest && !a->m_evicting && !a->m_detached && held > 0)
            holders.emplace_back(held, a);
    }
    std::sort(holders.begin(), holders.end(), [](const auto &x, const auto &y) { return x.first > y.first; });
    qint64 freeable = 0;
    for (const auto &h : holders)
        freeable += h.first;
    if (freeable < missing) {
        // Closing them all would not make room (the rest is held by calls running, or by
        // connections already on their way out): close nobody, wait for those.
        oldest->m_waitingSince = now;
        return 0;
    }
    int asked = 0;
    for (const auto &[held, a] : holders) {
        if (missing <= 0)
            break;
        a->m_evicting = true;
        const QString why = QStringLiteral("closed to free memory: this connection held %1 bytes (unfinished frames "
                                           "and unread answers) while others waited %2 ms for room in "
                                           "max-buffered-bytes (%3)")
                                .arg(held).arg(m_maxWaitMs).arg(m_limit);
        a->postEvict(why);
        missing -= held;
        ++asked;
    }
    // The evicted give their memory back on their own threads: give them a while before the
    // next round (the waiter keeps its place).
    oldest->m_waitingSince = now;
    m_evictions.fetch_add(quint64(asked), std::memory_order_relaxed);
    return asked;
}

} // namespace Tomato
