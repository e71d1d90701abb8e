import { PageQueryDto, type Webhook, type WebhookDelivery, type WebhookDeliveryList, type WebhookList } from '@beacon/contracts';
import { ContractPipe } from '@beacon/platform';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { WebhookBodyPipe } from './webhook-body.pipe';
import { DeliveriesQueryDto, WebhookBodyDto } from './webhook.dto';
import { WebhooksService } from './webhooks.service';

/** `/api/v1/webhooks`: reads like every read, mutations (a test included) with the token when one is set. */
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(@Inject(WebhooksService) private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(201)
  create(@Body(WebhookBodyPipe) body: WebhookBodyDto): Promise<Webhook> {
    return this.webhooks.create(body);
  }

  @Get()
  list(@Query(ContractPipe.of(PageQueryDto, 'query')) query: PageQueryDto): Promise<WebhookList> {
    return this.webhooks.list(query);
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<Webhook> {
    return this.webhooks.get(id);
  }

  @Put(':id')
  replace(@Param('id') id: string, @Body(WebhookBodyPipe) body: WebhookBodyDto): Promise<Webhook> {
    return this.webhooks.replace(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id') id: string): Promise<void> {
    await this.webhooks.delete(id);
  }

  @Get(':id/deliveries')
  deliveries(
    @Param('id') id: string,
    @Query(ContractPipe.of(DeliveriesQueryDto, 'query')) query: DeliveriesQueryDto,
  ): Promise<WebhookDeliveryList> {
    return this.webhooks.deliveries(id, query);
  }

  /** Sends the webhook a sample now, through realtime-gateway; the answer is that delivery. */
  @Post(':id/test')
  @HttpCode(200)
  test(@Param('id') id: string): Promise<WebhookDelivery> {
    return this.webhooks.test(id);
  }
}
