// PLACEHOLDER: being written.
#include <QtTest/QTest>

class tst_Placeholdercircuitbreaker : public QObject
{
    Q_OBJECT
};

QTEST_MAIN(tst_Placeholdercircuitbreaker)
#include "tst_circuitbreaker.moc"
