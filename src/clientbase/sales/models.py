"""What customers buy (R4.1-R4.3): catalogue, orders, returns, abandoned carts, per-customer figures.

Money is an integer number of kopecks. Orders are idempotent on (source, number), returns on
(source, number), carts on (source, cart_id): a repeated event finds the row it created before.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("key"), max_length=100, unique=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="products")
    attributes = models.JSONField(_("attributes"), default=dict, blank=True,
                                  help_text=_("Colour, size, volume, …"))
    price = models.BigIntegerField(_("price, kopecks"), default=0)
    cost = models.BigIntegerField(_("cost, kopecks"), default=0)
    active = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0, cost__gte=0), name="product_money_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class StockArrival(models.Model):
    """New stock of a product arrived; a trigger may tell the customers who like it (R4.1)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="arrivals")
    quantity = models.PositiveIntegerField(_("quantity"))
    store = models.CharField(_("store"), max_length=50, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), db_index=True)

    class Meta:
        verbose_name = _("stock arrival")
        verbose_name_plural = _("stock arrivals")


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    CONFIRMED = "confirmed", _("Confirmed")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Not paid")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")


class Order(models.Model):
    # No index of its own: order_customer_placed (customer, placed_at) serves every lookup by customer.
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="orders",
                                 db_index=False)
    source = models.CharField(_("source"), max_length=50, default="api")
    number = models.CharField(_("number"), max_length=64)
    store = models.CharField(_("store"), max_length=50, blank=True)
    channel = models.CharField(_("channel"), max_length=30, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.NEW)
    payment_status = models.CharField(_("payment"), max_length=20, choices=PaymentStatus.choices,
                                      default=PaymentStatus.UNPAID)
    paid_with_points = models.BigIntegerField(_("paid with points"), default=0)
    placed_at = models.DateTimeField(_("placed at"))
    # Totals of the lines, written once with them: figures add these instead of re-reading lines.
    items = models.PositiveIntegerField(default=0)
    gross_amount = models.BigIntegerField(default=0)
    discount_amount = models.BigIntegerField(default=0)
    cost_amount = models.BigIntegerField(default=0)
    # The ingested event that created the order: after an unmerge the order follows its event's customer.
    event = models.ForeignKey("interactions.Event", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["source", "number"], name="order_source_number_unique"),
        ]
        indexes = [models.Index(fields=["customer", "placed_at"], name="order_customer_placed")]

    def __str__(self) -> str:
        return self.number

    @property
    def net_amount(self) -> int:
        return self.gross_amount - self.discount_amount


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    price = models.BigIntegerField(_("unit price"))
    cost = models.BigIntegerField(_("unit cost"), default=0)
    discount = models.BigIntegerField(_("discount on the line"), default=0)
    reward = models.BooleanField(_("loyalty reward"), default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0, price__gte=0, cost__gte=0, discount__gte=0),
                                   name="order_line_amounts_valid"),
        ]

    @property
    def amount(self) -> int:
        return self.price * self.quantity - self.discount


class OrderStatusChange(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    at = models.DateTimeField()
    source = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["at", "id"]


class Return(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    source = models.CharField(max_length=50, default="api")
    number = models.CharField(_("return number"), max_length=64)
    amount = models.BigIntegerField(default=0)
    items = models.PositiveIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "number"], name="return_source_number_unique"),
        ]


class ReturnLine(models.Model):
    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="returned")
    quantity = models.PositiveIntegerField()
    # The part of the line's paid amount given back, fixed when the return is made.
    amount = models.BigIntegerField()


class AbandonedCart(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="abandoned_carts")
    source = models.CharField(max_length=50, default="api")
    cart_id = models.CharField(max_length=64)
    lines = models.JSONField(default=list)
    amount = models.BigIntegerField(default=0)
    at = models.DateTimeField()
    event = models.ForeignKey("interactions.Event", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "cart_id"], name="cart_source_id_unique"),
        ]


class FrequencyClass(models.TextChoices):
    NONE = "", _("No purchases")
    ONE_OFF = "one_off", _("One-off")
    RARE = "rare", _("Rare")
    REGULAR = "regular", _("Regular")


class CustomerFigures(models.Model):
    """Per-customer figures (R4.3), kept current by every write; see docs/sales.md for definitions."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, primary_key=True,
                                    related_name="figures", db_constraint=False)
    orders = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    items = models.PositiveIntegerField(default=0)
    gross_amount = models.BigIntegerField(default=0)
    discount_amount = models.BigIntegerField(default=0)
    cost_amount = models.BigIntegerField(default=0)
    returns = models.PositiveIntegerField(default=0)
    returns_amount = models.BigIntegerField(default=0)
    total_spend = models.BigIntegerField(default=0)
    average_check = models.BigIntegerField(default=0)
    profit = models.BigIntegerField(default=0)
    first_purchase_at = models.DateTimeField(null=True, blank=True)
    last_purchase_at = models.DateTimeField(null=True, blank=True, db_index=True)
    visit_days = models.PositiveIntegerField(default=0)
    favourite_categories = models.JSONField(default=list, blank=True)
    favourite_products = models.JSONField(default=list, blank=True)
    frequency = models.CharField(max_length=10, choices=FrequencyClass.choices, blank=True, default="")

    class Meta:
        verbose_name = _("customer figures")
        verbose_name_plural = _("customer figures")


class CustomerVisitDay(models.Model):
    """Days a customer bought on, with how many orders, so distinct days update in O(1)."""

    # Indexed through visit_day_unique (customer, day); every index here is written on every order.
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False,
                                 db_constraint=False)
    day = models.DateField()
    orders = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "day"], name="visit_day_unique")]


class CustomerProductCount(models.Model):
    """Units of a product a customer bought (favourites are the top of this table)."""

    # Every index here is written on every order. A customer's rows are found through product_count_unique
    # (customer, product) and are few, so favourites sort them without an index of their own; product and
    # category keep theirs (who bought this product or this category: the stock-arrival trigger).
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False,
                                 db_constraint=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, null=True, related_name="+",
                                 db_constraint=False)
    quantity = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "product"], name="product_count_unique")]
