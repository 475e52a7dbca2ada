// PLACEHOLDER: being written.
#include <QtTest/QTest>

class tst_Placeholderloadbalancer : public QObject
{
    Q_OBJECT
};

QTEST_MAIN(tst_Placeholderloadbalancer)
#include "tst_loadbalancer.moc"
