#include "functions.h"

#include <math.h>
#include <string.h>

static double branin(const double *x) {
    const double b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, t = 1 / (8 * M_PI);
    const double inner = x[1] - b * x[0] * x[0] + c * x[0] - 6;
    return inner * inner + 10 * (1 - t) * cos(x[0]) + 10;
}

static double rosenbrock(const double *x, size_t n) {
    double sum = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        const double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
        sum += 100 * a * a + b * b;
    }
    return sum;
}

static double himmelblau(const double *x) {
    const double a = x[0] * x[0] + x[1] - 11, b = x[0] + x[1] * x[1] - 7;
    return a * a + b * b;
}

static double rastrigin(const double *x, size_t n) {
    double sum = 10.0 * (double)n;
    for (size_t i = 0; i < n; i++) sum += x[i] * x[i] - 10 * cos(2 * M_PI * x[i]);
    return sum;
}

static double ackley(const double *x, size_t n) {
    double squares = 0, cosines = 0;
    for (size_t i = 0; i < n; i++) {
        squares += x[i] * x[i];
        cosines += cos(2 * M_PI * x[i]);
    }
    return -20 * exp(-0.2 * sqrt(squares / (double)n)) - exp(cosines / (double)n) + 20 + M_E;
}

static double sphere(const double *x, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += x[i] * x[i];
    return sum;
}

static double six_hump_camel(const double *x) {
    const double a = x[0], b = x[1];
    return (4 - 2.1 * a * a + a * a * a * a / 3) * a * a + a * b + (-4 + 4 * b * b) * b * b;
}

int orrery_benchmark(const char *name, const double *x, size_t n, double *value) {
    if (n < 2) return -1;
    if (strcmp(name, "rosenbrock") == 0) { *value = rosenbrock(x, n); return 0; }
    if (strcmp(name, "rastrigin") == 0) { *value = rastrigin(x, n); return 0; }
    if (strcmp(name, "ackley") == 0) { *value = ackley(x, n); return 0; }
    if (strcmp(name, "sphere") == 0) { *value = sphere(x, n); return 0; }
    if (n != 2) return -1;
    if (strcmp(name, "branin") == 0) { *value = branin(x); return 0; }
    if (strcmp(name, "himmelblau") == 0) { *value = himmelblau(x); return 0; }
    if (strcmp(name, "six_hump_camel") == 0) { *value = six_hump_camel(x); return 0; }
    return -1;
}
